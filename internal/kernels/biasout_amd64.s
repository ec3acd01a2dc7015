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

// func biasOutRowsAVX2(dst, src *float32, rows, cols, stride int, b float32, relu bool, tail *int32)
//
// biasOutAVX2 for rows rows of cols values each: row r read at
// src[r·stride:] and written at dst[r·cols:]; tail is the mask of the
// last cols mod 8 lanes of a row.
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
