#include "textflag.h"

// func copyRowsAVX2(dst, src *float32, rows, cols, ds, ss int, tail *int32)
//
// For rows rows of cols values each: dst[r·ds+i] = src[r·ss+i], eight at
// a time, the last cols mod 8 of a row under the mask at tail (8 int32s,
// the first cols mod 8 of them -1), so nothing past a row is read or
// written. The values move as bits: −0 and NaNs are kept.
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    rows+16(FP), R9
	MOVQ    cols+24(FP), R10
	MOVQ    ds+32(FP), R11
	SHLQ    $2, R11
	MOVQ    ss+40(FP), R13
	SHLQ    $2, R13
	MOVQ    tail+48(FP), R8
	VMOVDQU (R8), Y3
	TESTQ   R9, R9
	JE      cdone

crow:
	MOVQ SI, R12
	MOVQ DI, R14
	MOVQ R10, CX
	CMPQ CX, $8
	JL   clast

cloop:
	VMOVUPS (R12), Y1
	VMOVUPS Y1, (R14)
	ADDQ    $32, R12
	ADDQ    $32, R14
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     cloop

clast:
	TESTQ      CX, CX
	JE         cnext
	VMASKMOVPS (R12), Y3, Y1
	VMASKMOVPS Y1, Y3, (R14)

cnext:
	ADDQ R13, SI
	ADDQ R11, DI
	DECQ R9
	JNE  crow

cdone:
	VZEROUPPER
	RET

// func addRowsAVX2(dst, src *float32, rows, cols, ds, ss int, tail *int32)
//
// For rows rows of cols values each: dst[r·ds+i] += src[r·ss+i], eight at
// a time, the last cols mod 8 of a row under the mask at tail as in
// copyRowsAVX2. Each sum is the plain loop's single float32 addition.
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    rows+16(FP), R9
	MOVQ    cols+24(FP), R10
	MOVQ    ds+32(FP), R11
	SHLQ    $2, R11
	MOVQ    ss+40(FP), R13
	SHLQ    $2, R13
	MOVQ    tail+48(FP), R8
	VMOVDQU (R8), Y3
	TESTQ   R9, R9
	JE      adone

arow:
	MOVQ SI, R12
	MOVQ DI, R14
	MOVQ R10, CX
	CMPQ CX, $8
	JL   alast

aloop:
	VMOVUPS (R14), Y1
	VADDPS  (R12), Y1, Y1
	VMOVUPS Y1, (R14)
	ADDQ    $32, R12
	ADDQ    $32, R14
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     aloop

alast:
	TESTQ      CX, CX
	JE         anext
	VMASKMOVPS (R14), Y3, Y1
	VMASKMOVPS (R12), Y3, Y2
	VADDPS     Y2, Y1, Y1
	VMASKMOVPS Y1, Y3, (R14)

anext:
	ADDQ R13, SI
	ADDQ R11, DI
	DECQ R9
	JNE  arow

adone:
	VZEROUPPER
	RET
