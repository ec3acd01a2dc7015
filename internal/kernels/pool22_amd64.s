#include "textflag.h"

DATA pool22Lanes<>+0(SB)/4, $0
DATA pool22Lanes<>+4(SB)/4, $2
DATA pool22Lanes<>+8(SB)/4, $4
DATA pool22Lanes<>+12(SB)/4, $6
DATA pool22Lanes<>+16(SB)/4, $8
DATA pool22Lanes<>+20(SB)/4, $10
DATA pool22Lanes<>+24(SB)/4, $12
DATA pool22Lanes<>+28(SB)/4, $14
GLOBL pool22Lanes<>(SB), RODATA|NOPTR, $32

// POOL22 pools the eight windows whose two rows are in Y0:Y1 (row 0) and
// Y2:Y3 (row 1), sixteen values each: the window maxima go to Y9 and their
// argmax indices (the window's first cell plus Y6) to Y11. A NaN in any
// window jumps to nan.
#define POOL22 \
	VSHUFPS    $0x88, Y1, Y0, Y4; \
	VSHUFPS    $0xDD, Y1, Y0, Y5; \
	VSHUFPS    $0x88, Y3, Y2, Y0; \
	VSHUFPS    $0xDD, Y3, Y2, Y1; \
	VPERMPD    $0xD8, Y4, Y4; \
	VPERMPD    $0xD8, Y5, Y5; \
	VPERMPD    $0xD8, Y0, Y0; \
	VPERMPD    $0xD8, Y1, Y1; \
	VCMPPS     $3, Y5, Y4, Y7; \
	VCMPPS     $3, Y1, Y0, Y8; \
	VORPS      Y8, Y7, Y7; \
	VMOVMSKPS  Y7, AX; \
	TESTL      AX, AX; \
	JNE        nan; \
	VMAXPS     Y5, Y4, Y7; \
	VMAXPS     Y1, Y0, Y8; \
	VMAXPS     Y8, Y7, Y7; \
	VCMPPS     $0, Y7, Y0, Y8; \
	VBLENDVPS  Y8, Y0, Y1, Y9; \
	VBLENDVPS  Y8, Y14, Y13, Y11; \
	VCMPPS     $0, Y7, Y5, Y8; \
	VBLENDVPS  Y8, Y5, Y9, Y9; \
	VBLENDVPS  Y8, Y12, Y11, Y11; \
	VCMPPS     $0, Y7, Y4, Y8; \
	VBLENDVPS  Y8, Y4, Y9, Y9; \
	VPANDN     Y11, Y8, Y11; \
	VPADDD     Y6, Y11, Y11

// func pool22PlaneAVX2(x, y *float32, arg *int32, rows, cols, w, base int, ma, mb, mo *int32) bool
//
// 2×2 max pooling at stride 2 of one plane: rows output rows of cols
// windows, the input rows w wide; output row r reads input rows 2r and
// 2r+1. y gets each window's maximum, the value of its first cell (in the
// order top left, top right, bottom left, bottom right) equal to the
// maximum, and arg that cell's index plus base. The last cols mod 8
// windows of a row go through masked loads and stores (ma and mb: the
// loads of the first and the second eight values of each input row; mo:
// the stores), so nothing past
// a row is read or written. It returns false, with the outputs partly
// written, at the first window holding a NaN.
TEXT ·pool22PlaneAVX2(SB), NOSPLIT, $0-81
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ arg+16(FP), DX
	MOVQ rows+24(FP), R8
	MOVQ cols+32(FP), R9
	MOVQ w+40(FP), R10
	MOVQ base+48(FP), BX
	VMOVDQU      pool22Lanes<>(SB), Y15
	MOVL         R10, AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14 // w: bottom left
	INCL         AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13 // w+1: bottom right
	MOVL         $1, AX
	VMOVD        AX, X12
	VPBROADCASTD X12, Y12 // 1: top right
	MOVL         $16, AX
	VMOVD        AX, X10
	VPBROADCASTD X10, Y10 // sixteen input columns a block

	TESTQ R8, R8
	JE    done

row:
	MOVQ         DI, R12
	LEAQ         (DI)(R10*4), R13
	MOVQ         SI, R14
	MOVQ         DX, R11
	VMOVD        BX, X6
	VPBROADCASTD X6, Y6
	VPADDD       Y15, Y6, Y6
	MOVQ         R9, CX
	CMPQ         CX, $8
	JL           last

block:
	VMOVUPS (R12), Y0
	VMOVUPS 32(R12), Y1
	VMOVUPS (R13), Y2
	VMOVUPS 32(R13), Y3
	POOL22
	VMOVUPS Y9, (R14)
	VMOVDQU Y11, (R11)
	ADDQ    $64, R12
	ADDQ    $64, R13
	ADDQ    $32, R14
	ADDQ    $32, R11
	VPADDD  Y10, Y6, Y6
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     block

last:
	TESTQ      CX, CX
	JE         next
	MOVQ       ma+56(FP), AX
	VMOVDQU    (AX), Y7
	MOVQ       mb+64(FP), AX
	VMOVDQU    (AX), Y8
	VMASKMOVPS (R12), Y7, Y0
	VMASKMOVPS 32(R12), Y8, Y1
	VMASKMOVPS (R13), Y7, Y2
	VMASKMOVPS 32(R13), Y8, Y3
	POOL22
	MOVQ       mo+72(FP), AX
	VMOVDQU    (AX), Y7
	VMASKMOVPS Y9, Y7, (R14)
	VPMASKMOVD Y11, Y7, (R11)

next:
	LEAQ (DI)(R10*8), DI
	LEAQ (SI)(R9*4), SI
	LEAQ (DX)(R9*4), DX
	LEAQ (BX)(R10*2), BX
	DECQ R8
	JNE  row

done:
	VZEROUPPER
	MOVB $1, ret+80(FP)
	RET

nan:
	VZEROUPPER
	MOVB $0, ret+80(FP)
	RET
