package interop

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/spred-go/spred/models"
)

// isChain reports whether every layer reads the one before it.
func isChain(ins [][]int) bool {
	for i, in := range ins {
		if len(in) != 1 || in[0] != i-1 {
			return false
		}
	}
	return true
}

// name names the layers of an import without a spred export's spec: a
// chain as the zoo names its chains (fc1, fc2, ..., conv1, ..., bn1, ...)
// and nothing else; in a graph every layer with parameters or read by a
// layer other than the next one gets a name, taken from its ONNX node
// where that gives a unique one (torch's "/layer1/layer1.0/conv1/Conv"
// gives "layer1.0.conv1"), and every layer reads its inputs by name
// unless it reads the previous one.
func (r *reader) name(ls []models.Layer) {
	if isChain(r.ins) {
		nameLayers(ls)
		return
	}
	need := make([]bool, len(ls))
	for i, in := range r.ins {
		if len(in) != 1 || in[0] != i-1 {
			for _, j := range in {
				if j >= 0 {
					need[j] = true
				}
			}
		}
	}
	taken := map[string]bool{models.InputName: true}
	for i := range ls {
		if k := models.Kind(ls[i].Kind); k != nil && k.Named {
			need[i] = true
		}
		ls[i].Name = ""
		if need[i] {
			if nm := torchName(r.names[i], ls[i].Kind, r.onnxOp(i)); nm != "" && !taken[nm] {
				ls[i].Name = nm
				taken[nm] = true
			}
		}
	}
	count := map[string]int{}
	for i := range ls {
		if !need[i] || ls[i].Name != "" {
			continue
		}
		prefix := map[string]string{models.Dense: "fc", models.Conv2d: "conv", models.BatchNorm2d: "bn"}[ls[i].Kind]
		if prefix == "" {
			prefix = ls[i].Kind
		}
		for {
			count[prefix]++
			nm := fmt.Sprintf("%s%d", prefix, count[prefix])
			if !taken[nm] {
				ls[i].Name = nm
				taken[nm] = true
				break
			}
		}
	}
	setInputs(ls, r.ins)
}

// onnxOp is the op of the node layer i was made from.
func (r *reader) onnxOp(i int) string {
	s := r.sources[i][0]
	if j := strings.LastIndex(s, "("); j >= 0 && strings.HasSuffix(s, ")") {
		return s[j+1 : len(s)-1]
	}
	return ""
}

// torchName turns an ONNX node name into a layer name: torch's scoped
// names ("/layer1/layer1.0/conv1/Conv") become the module's dotted path
// ("layer1.0.conv1"; "/layer1/layer1.0/Relu_1" gives "layer1.0.relu_1"),
// other names are kept. It returns "" for names that make poor layer
// names (empty, too long, with control characters).
func torchName(name, kind, op string) string {
	if name == "" || len(name) > 200 || strings.ContainsFunc(name, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return ""
	}
	if !strings.HasPrefix(name, "/") {
		return name
	}
	parts := strings.Split(strings.TrimPrefix(name, "/"), "/")
	var path []string
	for _, p := range parts {
		if p == "" {
			return ""
		}
		if n := len(path); n > 0 && strings.HasPrefix(p, path[n-1]+".") {
			path[n-1] = p
		} else {
			path = append(path, p)
		}
	}
	if n := len(path); op != "" && (path[n-1] == op || strings.HasPrefix(path[n-1], op+"_")) {
		last := strings.ToLower(path[n-1])
		path = path[:n-1]
		// The module is the layer for layers with parameters ("conv1")
		// and modules named after the op ("relu"); functional ops in a
		// module are named after the op ("layer1.0.relu").
		keepOp := len(path) == 0
		if !keepOp {
			k := models.Kind(kind)
			keepOp = (k == nil || !k.Named) && !strings.HasPrefix(strings.ToLower(module(path[len(path)-1])), strings.ToLower(op))
		}
		if keepOp {
			path = append(path, last)
		}
	}
	return strings.Join(path, ".")
}

// module is the last part of a dotted module path.
func module(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// setInputs sets the Inputs of every layer that does not read only the
// previous layer (ins, by index) to the names of the layers it reads.
func setInputs(ls []models.Layer, ins [][]int) {
	for i := range ls {
		ls[i].Inputs = nil
		if len(ins[i]) == 1 && ins[i][0] == i-1 {
			continue
		}
		for _, j := range ins[i] {
			nm := models.InputName
			if j >= 0 {
				nm = ls[j].Name
			}
			ls[i].Inputs = append(ls[i].Inputs, nm)
		}
	}
}

// nameLayers names dense layers fc1, fc2, ..., conv layers conv1, ... and
// batch norms bn1, ..., as the zoo does.
func nameLayers(ls []models.Layer) {
	nd, nc, nb := 0, 0, 0
	for i := range ls {
		switch ls[i].Kind {
		case models.Dense:
			nd++
			ls[i].Name = fmt.Sprintf("fc%d", nd)
		case models.Conv2d:
			nc++
			ls[i].Name = fmt.Sprintf("conv%d", nc)
		case models.BatchNorm2d:
			nb++
			ls[i].Name = fmt.Sprintf("bn%d", nb)
		}
	}
}

// normal is l without its name and inputs and with its defaults spelled
// out (stride 0 and 1 of a conv are the same).
func normal(l models.Layer) models.Layer {
	l.Name, l.Inputs = "", nil
	switch l.Kind {
	case models.Conv2d, models.MaxPool2d, models.AvgPool2d:
		l.Stride = l.StrideOrDefault()
		l.Groups = l.GroupsOrDefault()
	case models.BatchNorm2d:
		l.Eps, l.Momentum = l.EpsOrDefault(), l.MomentumOrDefault()
	}
	return l
}

// nameLike takes the spec name and layers of exported, the
// spec a spred export recorded, when its layers other than dropout are
// those imported (the same settings, up to defaults, and inputs); it
// reports whether they were.
func nameLike(spec *models.Spec, ins [][]int, exported models.Spec) bool {
	nodes, err := exported.Nodes()
	if err != nil {
		return false
	}
	// keptIndex maps each exported layer to the kept layer whose output
	// it passes on (dropout: the layer it reads).
	keptIndex := make([]int, len(nodes))
	var kept []models.Layer
	var keptIns [][]int
	dropped := false
	for i, n := range nodes {
		if n.Layer.Kind == models.Dropout {
			keptIndex[i] = models.InputIndex
			if j := n.Inputs[0]; j >= 0 {
				keptIndex[i] = keptIndex[j]
			}
			dropped = true
			continue
		}
		var in []int
		for _, j := range n.Inputs {
			if j >= 0 {
				j = keptIndex[j]
			}
			in = append(in, j)
		}
		keptIndex[i] = len(kept)
		kept = append(kept, n.Layer)
		keptIns = append(keptIns, in)
	}
	if len(kept) != len(spec.Layers) || !reflect.DeepEqual(keptIns, ins) {
		return false
	}
	for i := range kept {
		if !reflect.DeepEqual(normal(kept[i]), normal(spec.Layers[i])) {
			return false
		}
	}
	copy(spec.Layers, kept)
	if dropped {
		for i := range spec.Layers {
			for _, j := range ins[i] {
				if j >= 0 && kept[j].Name == "" && !(len(ins[i]) == 1 && j == i-1) {
					return false
				}
			}
		}
		setInputs(spec.Layers, ins)
	}
	if spec.Name == "" {
		spec.Name = exported.Name
	}
	return true
}
