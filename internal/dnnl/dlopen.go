//go:build linux || freebsd

package dnnl

import (
	"strings"

	"github.com/ebitengine/purego"
	"github.com/pkg/errors"
)

// dlopen opens the first of names that loads and has every entry point.
func dlopen(names []string) (*api, error) {
	var errs []string
	for _, name := range names {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		a := &api{}
		syms := []struct {
			fn   any
			name string
		}{
			{&a.version, "dnnl_version"},
			{&a.engineCreate, "dnnl_engine_create"},
			{&a.streamCreate, "dnnl_stream_create"},
			{&a.streamDestroy, "dnnl_stream_destroy"},
			{&a.streamWait, "dnnl_stream_wait"},
			{&a.mdInitByTag, "dnnl_memory_desc_init_by_tag"},
			{&a.mdEqual, "dnnl_memory_desc_equal"},
			{&a.mdGetSize, "dnnl_memory_desc_get_size"},
			{&a.convForwardDescInit, "dnnl_convolution_forward_desc_init"},
			{&a.convBackDataDescInit, "dnnl_convolution_backward_data_desc_init"},
			{&a.convBackWeiDescInit, "dnnl_convolution_backward_weights_desc_init"},
			{&a.pdCreate, "dnnl_primitive_desc_create"},
			{&a.pdDestroy, "dnnl_primitive_desc_destroy"},
			{&a.pdQueryMD, "dnnl_primitive_desc_query_md"},
			{&a.pdQuery, "dnnl_primitive_desc_query"},
			{&a.reorderPDCreate, "dnnl_reorder_primitive_desc_create"},
			{&a.primitiveCreate, "dnnl_primitive_create"},
			{&a.primitiveDestroy, "dnnl_primitive_destroy"},
			{&a.primitiveExecute, "dnnl_primitive_execute"},
			{&a.memoryCreate, "dnnl_memory_create"},
			{&a.memoryDestroy, "dnnl_memory_destroy"},
			{&a.memorySetHandle, "dnnl_memory_set_data_handle"},
		}
		ok := true
		for _, s := range syms {
			sym, err := purego.Dlsym(h, s.name)
			if err != nil {
				errs = append(errs, name+": "+err.Error())
				ok = false
				break
			}
			purego.RegisterFunc(s.fn, sym)
		}
		if ok {
			return a, nil
		}
		purego.Dlclose(h)
	}
	s := strings.Join(errs, "; ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return nil, errors.Errorf("oneDNN not loaded (%s)", s)
}
