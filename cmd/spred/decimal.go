package main

import (
	"flag"
	"strconv"

	"github.com/pkg/errors"
	"github.com/urfave/cli/v2"
)

// The standard flag package reads integers in any base Go accepts, so that
// --seed 010 is seed 8 and --batch 0x10 is 16. Every integer flag of the
// command line is read as a decimal number instead: decimalFlags wraps them.

// decimalFlags replaces the integer flags in fs by decimal ones.
func decimalFlags(fs []cli.Flag) {
	for i, f := range fs {
		switch f := f.(type) {
		case *cli.IntFlag:
			fs[i] = &decimalIntFlag{IntFlag: f}
		case *cli.Int64Flag:
			fs[i] = &decimalInt64Flag{Int64Flag: f}
		}
	}
}

// decimal is a flag.Value holding an integer of the given bits, set from
// decimal text only.
type decimal struct {
	v    int64
	bits int
}

func (d *decimal) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, d.bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return errors.Errorf("%s is out of range", s)
		}
		return errors.Errorf("%q is not a decimal integer", s)
	}
	d.v = v
	return nil
}

func (d *decimal) String() string { return strconv.FormatInt(d.v, 10) }
func (d *decimal) Get() any       { return d.get() }
func (d *decimal) get() any {
	if d.bits == strconv.IntSize {
		return int(d.v)
	}
	return d.v
}

type decimalIntFlag struct{ *cli.IntFlag }

// Apply registers the flag under each of its names, decimal.
func (f *decimalIntFlag) Apply(set *flag.FlagSet) error {
	for _, name := range f.Names() {
		set.Var(&decimal{v: int64(f.Value), bits: strconv.IntSize}, name, f.Usage)
	}
	return nil
}

type decimalInt64Flag struct{ *cli.Int64Flag }

// Apply registers the flag under each of its names, decimal.
func (f *decimalInt64Flag) Apply(set *flag.FlagSet) error {
	for _, name := range f.Names() {
		set.Var(&decimal{v: f.Value, bits: 64}, name, f.Usage)
	}
	return nil
}
