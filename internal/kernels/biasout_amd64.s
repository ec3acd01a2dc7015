#include "textflag.h"

// func biasOutAVX2(dst, src *float32, n int, b float32, relu bool, tail *int32)
//
// dst[i] = src[i] + b, or with relu that sum with every value whose sign
// bit is set made +0 (ReLU's bits exactly), for i < n: eight at a time,
// the last n mod 8 under the mask at tail (8 int32s, the first n mod 8 of
// them -1), so nothing past n is read or written.
TEXT ·biasOutAVX2(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Y0
	MOVBLZX      relu+28(FP), DX
	MOVQ         tail+32(FP), R8
	CMPQ         CX, $8
	JL           last

loop:
	VADDPS  (SI), Y0, Y1
	TESTQ   DX, DX
	JE      store
	VPSRAD  $31, Y1, Y2
	VPANDN  Y1, Y2, Y1

store:
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     loop

last:
	TESTQ      CX, CX
	JE         done
	VMOVDQU    (R8), Y3
	VMASKMOVPS (SI), Y3, Y1
	VADDPS     Y1, Y0, Y1
	TESTQ      DX, DX
	JE         storelast
	VPSRAD     $31, Y1, Y2
	VPANDN     Y1, Y2, Y1

storelast:
	VMASKMOVPS Y1, Y3, (DI)

done:
	VZEROUPPER
	RET
