// Package npy reads and writes NumPy's .npy files of floating-point arrays,
// following the format's published description (numpy.lib.format, NEP 1).
//
// A .npy file is a preamble, a header and the data:
//
//	"\x93NUMPY" major minor   magic and version (1.0, 2.0 or 3.0)
//	HEADER_LEN                little-endian: 2 bytes for 1.0, 4 for 2.0 and 3.0
//	HEADER                    a Python dict literal, for example
//	                          {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//	                          padded with spaces and ended by '\n' so that the
//	                          data starts at a multiple of 64 bytes (16 in old files)
//	DATA                      the values, prod(shape) of them, in C order
//	                          (the last index varies fastest) unless fortran_order
//
// Read accepts little-endian float32 ('<f4') and float64 ('<f8', converted
// to float32) arrays in C order and refuses everything else with a one-line
// error that names what it found and what it accepts. It checks every
// claim of the header against the size of the input before allocating: a
// file never makes the reader allocate much more than its own size (at
// most 4 bytes per value for float32 data, 2 for float64, plus the header
// and a small read buffer), and never more than MaxValues values. Version
// 3.0 differs from 2.0 only in the header's text encoding (UTF-8 instead of
// Latin-1); the keys and values Read accepts are ASCII in both.
//
// Write produces what numpy.save writes for a float32 array: version 1.0,
// descr '<f4', C order, the header padded to 64 bytes.
package npy
