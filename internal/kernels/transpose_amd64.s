#include "textflag.h"

// func transpose8x8AVX(src *float32, ss int, dst *float32, ds int)
//
// dst[j·ds + i] = src[i·ss + j] for i, j < 8: eight rows of src, ss
// floats apart, become eight rows of dst, ds floats apart.
TEXT ·transpose8x8AVX(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ ss+8(FP), BX
	SHLQ $2, BX
	MOVQ dst+16(FP), DI
	MOVQ ds+24(FP), DX
	SHLQ $2, DX
	VMOVUPS (SI), Y0
	ADDQ    BX, SI
	VMOVUPS (SI), Y1
	ADDQ    BX, SI
	VMOVUPS (SI), Y2
	ADDQ    BX, SI
	VMOVUPS (SI), Y3
	ADDQ    BX, SI
	VMOVUPS (SI), Y4
	ADDQ    BX, SI
	VMOVUPS (SI), Y5
	ADDQ    BX, SI
	VMOVUPS (SI), Y6
	ADDQ    BX, SI
	VMOVUPS (SI), Y7

	// Pairs of rows interleaved, per 128-bit lane.
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Columns of four rows: Y0 holds column 0 of rows 0-3 (low lane) and
	// column 4 (high lane), Y1 columns 1 and 5, ...; Y4-Y7 the same for
	// rows 4-7.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Whole columns: low lanes joined for columns 0-3, high for 4-7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DI)
	ADDQ    DX, DI
	VMOVUPS Y9, (DI)
	ADDQ    DX, DI
	VMOVUPS Y10, (DI)
	ADDQ    DX, DI
	VMOVUPS Y11, (DI)
	ADDQ    DX, DI
	VMOVUPS Y12, (DI)
	ADDQ    DX, DI
	VMOVUPS Y13, (DI)
	ADDQ    DX, DI
	VMOVUPS Y14, (DI)
	ADDQ    DX, DI
	VMOVUPS Y15, (DI)
	VZEROUPPER
	RET
