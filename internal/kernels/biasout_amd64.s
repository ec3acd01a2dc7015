#include "textflag.h"

// func biasOutRowsAVX2(dst, src *float32, rows, cols, stride int, b float32, relu bool, tail *int32)
//
// For rows rows of cols values each, row r read at src[r·stride:] and
// written at dst[r·cols:]: dst[i] = src[i] + b, or with relu that sum with
// every value whose sign bit is set made +0 (ReLU's bits exactly), eight
// at a time, the last cols mod 8 of a row under the mask at tail (8
// int32s, the first cols mod 8 of them -1), so nothing past a row is read
// or written.
TEXT ·biasOutRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         rows+16(FP), R9
	MOVQ         cols+24(FP), R10
	MOVQ         stride+32(FP), R11
	SHLQ         $2, R11
	VBROADCASTSS b+40(FP), Y0
	MOVBLZX      relu+44(FP), DX
	MOVQ         tail+48(FP), R8
	VMOVDQU      (R8), Y3
	TESTQ        R9, R9
	JE           rdone

row:
	MOVQ SI, R12
	MOVQ R10, CX
	CMPQ CX, $8
	JL   rlast

rloop:
	VADDPS  (R12), Y0, Y1
	TESTQ   DX, DX
	JE      rstore
	VPSRAD  $31, Y1, Y2
	VPANDN  Y1, Y2, Y1

rstore:
	VMOVUPS Y1, (DI)
	ADDQ    $32, R12
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     rloop

rlast:
	TESTQ      CX, CX
	JE         rnext
	VMASKMOVPS (R12), Y3, Y1
	VADDPS     Y1, Y0, Y1
	TESTQ      DX, DX
	JE         rstorelast
	VPSRAD     $31, Y1, Y2
	VPANDN     Y1, Y2, Y1

rstorelast:
	VMASKMOVPS Y1, Y3, (DI)
	LEAQ       (DI)(CX*4), DI

rnext:
	ADDQ R11, SI
	DECQ R9
	JNE  row

rdone:
	VZEROUPPER
	RET
