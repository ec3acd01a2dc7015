#include "textflag.h"

// func csrBlock64AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32)
//
// c[j] = Σ_p val[p]·b[col[p]·n + j] for j < 64: 64 columns of one row of a
// CSR product, summed in eight registers over the row's nnz entries in
// order from zero, each step a product then a sum (no fused multiply-add),
// as Axpy rounds them.
TEXT ·csrBlock64AVX2(SB), NOSPLIT, $0-48
	MOVQ   val+0(FP), SI
	MOVQ   col+8(FP), R8
	MOVQ   nnz+16(FP), CX
	MOVQ   b+24(FP), R9
	MOVQ   n+32(FP), R10
	SHLQ   $2, R10
	MOVQ   c+40(FP), DI
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	TESTQ  CX, CX
	JE     store64

loop64:
	VBROADCASTSS (SI), Y0
	MOVLQSX      (R8), AX
	IMULQ        R10, AX
	ADDQ         R9, AX
	VMULPS       (AX), Y0, Y9
	VMULPS       32(AX), Y0, Y10
	VMULPS       64(AX), Y0, Y11
	VMULPS       96(AX), Y0, Y12
	VADDPS       Y9, Y1, Y1
	VADDPS       Y10, Y2, Y2
	VADDPS       Y11, Y3, Y3
	VADDPS       Y12, Y4, Y4
	VMULPS       128(AX), Y0, Y13
	VMULPS       160(AX), Y0, Y14
	VMULPS       192(AX), Y0, Y15
	VMULPS       224(AX), Y0, Y9
	VADDPS       Y13, Y5, Y5
	VADDPS       Y14, Y6, Y6
	VADDPS       Y15, Y7, Y7
	VADDPS       Y9, Y8, Y8
	ADDQ         $4, SI
	ADDQ         $4, R8
	DECQ         CX
	JNE          loop64

store64:
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	VMOVUPS Y5, 128(DI)
	VMOVUPS Y6, 160(DI)
	VMOVUPS Y7, 192(DI)
	VMOVUPS Y8, 224(DI)
	VZEROUPPER
	RET

// func csrBlock8AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32)
//
// csrBlock64AVX2 for 8 columns.
TEXT ·csrBlock8AVX2(SB), NOSPLIT, $0-48
	MOVQ   val+0(FP), SI
	MOVQ   col+8(FP), R8
	MOVQ   nnz+16(FP), CX
	MOVQ   b+24(FP), R9
	MOVQ   n+32(FP), R10
	SHLQ   $2, R10
	MOVQ   c+40(FP), DI
	VXORPS Y1, Y1, Y1
	TESTQ  CX, CX
	JE     store8

loop8:
	VBROADCASTSS (SI), Y0
	MOVLQSX      (R8), AX
	IMULQ        R10, AX
	ADDQ         R9, AX
	VMULPS       (AX), Y0, Y9
	VADDPS       Y9, Y1, Y1
	ADDQ         $4, SI
	ADDQ         $4, R8
	DECQ         CX
	JNE          loop8

store8:
	VMOVUPS Y1, (DI)
	VZEROUPPER
	RET

// func csrBlock32AVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32)
//
// csrBlock64AVX2 for 32 columns.
TEXT ·csrBlock32AVX2(SB), NOSPLIT, $0-48
	MOVQ   val+0(FP), SI
	MOVQ   col+8(FP), R8
	MOVQ   nnz+16(FP), CX
	MOVQ   b+24(FP), R9
	MOVQ   n+32(FP), R10
	SHLQ   $2, R10
	MOVQ   c+40(FP), DI
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	TESTQ  CX, CX
	JE     store32

loop32:
	VBROADCASTSS (SI), Y0
	MOVLQSX      (R8), AX
	IMULQ        R10, AX
	ADDQ         R9, AX
	VMULPS       (AX), Y0, Y9
	VMULPS       32(AX), Y0, Y10
	VMULPS       64(AX), Y0, Y11
	VMULPS       96(AX), Y0, Y12
	VADDPS       Y9, Y1, Y1
	VADDPS       Y10, Y2, Y2
	VADDPS       Y11, Y3, Y3
	VADDPS       Y12, Y4, Y4
	ADDQ         $4, SI
	ADDQ         $4, R8
	DECQ         CX
	JNE          loop32

store32:
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	VZEROUPPER
	RET

// func csrBlockMaskAVX2(val *float32, col *int32, nnz int, b *float32, n int, c *float32, mask *int32)
//
// csrBlock8AVX2 for the columns whose lane of mask (8 int32s) is all ones:
// only those are read from b and written to c.
TEXT ·csrBlockMaskAVX2(SB), NOSPLIT, $0-56
	MOVQ    val+0(FP), SI
	MOVQ    col+8(FP), R8
	MOVQ    nnz+16(FP), CX
	MOVQ    b+24(FP), R9
	MOVQ    n+32(FP), R10
	SHLQ    $2, R10
	MOVQ    c+40(FP), DI
	MOVQ    mask+48(FP), DX
	VMOVDQU (DX), Y15
	VXORPS  Y1, Y1, Y1
	TESTQ   CX, CX
	JE      storemask

loopmask:
	VBROADCASTSS (SI), Y0
	MOVLQSX      (R8), AX
	IMULQ        R10, AX
	ADDQ         R9, AX
	VMASKMOVPS   (AX), Y15, Y9
	VMULPS       Y9, Y0, Y9
	VADDPS       Y9, Y1, Y1
	ADDQ         $4, SI
	ADDQ         $4, R8
	DECQ         CX
	JNE          loopmask

storemask:
	VMASKMOVPS Y1, Y15, (DI)
	VZEROUPPER
	RET
