//go:build !linux && !freebsd

package dnnl

import "github.com/pkg/errors"

func dlopen([]string) (*api, error) {
	return nil, errors.New("oneDNN is loaded only on Linux and FreeBSD")
}
