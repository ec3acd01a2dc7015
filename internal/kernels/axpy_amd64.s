#include "textflag.h"

// func axpy32AVX2(a float32, x, y []float32, n int)
//
// y[i] += a·x[i] for i < n, n a multiple of 8 and at most len(x), len(y):
// a product then a sum, each rounded (VMULPS, VADDPS; no fused
// multiply-add), as the plain Go loop rounds them.
TEXT ·axpy32AVX2(SB), NOSPLIT, $0-64
	VBROADCASTSS a+0(FP), Y0
	MOVQ         x_base+8(FP), SI
	MOVQ         y_base+32(FP), DI
	MOVQ         n+56(FP), CX
	CMPQ         CX, $32
	JL           tail

loop32:
	VMULPS  (SI), Y0, Y1
	VMULPS  32(SI), Y0, Y2
	VMULPS  64(SI), Y0, Y3
	VMULPS  96(SI), Y0, Y4
	VADDPS  (DI), Y1, Y1
	VADDPS  32(DI), Y2, Y2
	VADDPS  64(DI), Y3, Y3
	VADDPS  96(DI), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     loop32

tail:
	CMPQ CX, $8
	JL   done

loop8:
	VMULPS  (SI), Y0, Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     loop8

done:
	VZEROUPPER
	RET
