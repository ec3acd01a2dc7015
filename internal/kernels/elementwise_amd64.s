#include "textflag.h"

// func allFinite32AVX2(x *float32, n int) bool
//
// Whether x[i] − x[i] is zero for every i < n (n a multiple of 8): it is
// NaN for an infinite or NaN x[i], and a sum that meets one NaN stays NaN.
TEXT ·allFinite32AVX2(SB), NOSPLIT, $0-17
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JL     ftail

floop32:
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VSUBPS  Y4, Y4, Y4
	VSUBPS  Y5, Y5, Y5
	VSUBPS  Y6, Y6, Y6
	VSUBPS  Y7, Y7, Y7
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y7, Y3, Y3
	ADDQ    $128, SI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     floop32

ftail:
	CMPQ CX, $8
	JL   fdone

floop8:
	VMOVUPS (SI), Y4
	VSUBPS  Y4, Y4, Y4
	VADDPS  Y4, Y0, Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     floop8

fdone:
	VADDPS    Y1, Y0, Y0
	VADDPS    Y3, Y2, Y2
	VADDPS    Y2, Y0, Y0
	VCMPPS    $3, Y0, Y0, Y0
	VMOVMSKPS Y0, AX
	TESTL     AX, AX
	SETEQ     ret+16(FP)
	VZEROUPPER
	RET

// func momentum32AVX2(w, grad, v *float32, n int, lr, mu, wd float32)
//
// v[i] = mu·v[i] + (grad[i] + wd·w[i]); w[i] −= lr·v[i], for i < n (a
// multiple of 8), each product and sum rounded in that order.
TEXT ·momentum32AVX2(SB), NOSPLIT, $0-44
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         v+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS lr+32(FP), Y13
	VBROADCASTSS mu+36(FP), Y14
	VBROADCASTSS wd+40(FP), Y15
	CMPQ         CX, $16
	JL           mtail

mloop16:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y4
	VMULPS  Y0, Y15, Y1
	VMULPS  Y4, Y15, Y5
	VADDPS  (SI), Y1, Y1
	VADDPS  32(SI), Y5, Y5
	VMULPS  (DX), Y14, Y2
	VMULPS  32(DX), Y14, Y6
	VADDPS  Y1, Y2, Y2
	VADDPS  Y5, Y6, Y6
	VMOVUPS Y2, (DX)
	VMOVUPS Y6, 32(DX)
	VMULPS  Y2, Y13, Y3
	VMULPS  Y6, Y13, Y7
	VSUBPS  Y3, Y0, Y0
	VSUBPS  Y7, Y4, Y4
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, 32(DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, DX
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     mloop16

mtail:
	CMPQ CX, $8
	JL   mdone
	VMOVUPS (DI), Y0
	VMULPS  Y0, Y15, Y1
	VADDPS  (SI), Y1, Y1
	VMULPS  (DX), Y14, Y2
	VADDPS  Y1, Y2, Y2
	VMOVUPS Y2, (DX)
	VMULPS  Y2, Y13, Y3
	VSUBPS  Y3, Y0, Y0
	VMOVUPS Y0, (DI)

mdone:
	VZEROUPPER
	RET

// func addReLUAVX2(y, a, b *float32, n int)
//
// y[i] = a[i] + b[i] with every sum whose sign bit is set made +0
// (ReLU's bits exactly), for i < n, n a multiple of 8.
TEXT ·addReLUAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $16
	JL   atail

aloop16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VPSRAD  $31, Y0, Y2
	VPSRAD  $31, Y1, Y3
	VPANDN  Y0, Y2, Y0
	VPANDN  Y1, Y3, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     aloop16

atail:
	CMPQ    CX, $8
	JL      adone
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VPSRAD  $31, Y0, Y2
	VPANDN  Y0, Y2, Y0
	VMOVUPS Y0, (DI)

adone:
	VZEROUPPER
	RET

// func mul32AVX2(y, a, b *float32, n int)
//
// y[i] = a[i]·b[i] for i < n, n a multiple of 8: each product the one
// rounding of the plain loop's.
TEXT ·mul32AVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	CMPQ CX, $16
	JL   mtail

mloop16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMULPS  (DX), Y0, Y0
	VMULPS  32(DX), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JGE     mloop16

mtail:
	CMPQ    CX, $8
	JL      mdone
	VMOVUPS (SI), Y0
	VMULPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)

mdone:
	VZEROUPPER
	RET
