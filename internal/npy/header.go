package npy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// header is the parsed dict of a .npy header.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader parses the Python dict literal of a .npy header: the keys
// 'descr' (a string), 'fortran_order' (True or False) and 'shape' (a tuple
// of non-negative integers), each exactly once, and nothing else.
func parseHeader(s string) (header, error) {
	p := &parser{s: s}
	var h header
	seen := map[string]bool{}
	p.space()
	if !p.eat('{') {
		return h, p.errorf("header does not start with '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, p.errorf("key %q appears twice", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return h, p.errorf("no ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() != '\'' && p.peek() != '"' {
				return h, p.errorf("descr is not a string (a structured dtype?): only '<f4' and '<f8' are read")
			}
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return h, p.errorf("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, p.errorf("unknown key %q (want descr, fortran_order and shape)", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return h, p.errorf("no ',' or '}' after the value of %q", key)
		}
		break
	}
	p.space()
	if p.i != len(p.s) {
		return h, p.errorf("text after the header's '}'")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, errors.Wrapf(ErrFormat, "header has no %q key", k)
		}
	}
	return h, nil
}

// parser reads a Python literal from s at i.
type parser struct {
	s string
	i int
}

func (p *parser) errorf(format string, args ...interface{}) error {
	return errors.Wrapf(ErrFormat, "header at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// word consumes w when it stands at i as a whole word.
func (p *parser) word(w string) bool {
	if !strings.HasPrefix(p.s[p.i:], w) {
		return false
	}
	if j := p.i + len(w); j < len(p.s) && isIdent(p.s[j]) {
		return false
	}
	p.i += len(w)
	return true
}

func isIdent(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// str reads a quoted string without escapes.
func (p *parser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("want a quoted string")
	}
	start := p.i + 1
	end := strings.IndexByte(p.s[start:], q)
	if end < 0 {
		return "", p.errorf("unterminated string")
	}
	v := p.s[start : start+end]
	if strings.ContainsAny(v, "\\\n") {
		return "", p.errorf("string with an escape or a newline")
	}
	p.i = start + end + 1
	return v, nil
}

// tuple reads a tuple of non-negative integers: (), (3,), (2, 3) or (2, 3,).
func (p *parser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.errorf("shape is not a tuple")
	}
	dims := []int{}
	comma := false // a comma follows the last integer
	for {
		p.space()
		if p.eat(')') {
			if len(dims) == 1 && !comma {
				return nil, p.errorf("shape (%d) is an integer, not a tuple (want (%d,))", dims[0], dims[0])
			}
			return dims, nil
		}
		if len(dims) > 0 && !comma {
			return nil, p.errorf("no ',' or ')' in the shape")
		}
		start := p.i
		for p.i < len(p.s) && '0' <= p.s[p.i] && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i {
			return nil, p.errorf("shape holds something other than non-negative integers")
		}
		d, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil || d > MaxValues {
			return nil, errors.Wrapf(ErrFormat, "shape dimension %s exceeds the limit of %d values", p.s[start:p.i], MaxValues)
		}
		dims = append(dims, int(d))
		p.space()
		comma = p.eat(',')
	}
}
