package models

import (
	"fmt"
	"sort"
)

// ChannelSpace is a set of channels that a network couples: the output
// channels of the layers whose outputs are added together (a residual
// connection), carried through the channel-wise layers that follow them.
// Channel c of a space is one quantity wherever it appears, so it can only
// be removed from all the space's layers at once, the way Torch-Pruning's
// dependency graph groups channels.
//
// A dense or conv2d layer starts a space of its own (its units or filters
// are the space's channels); batchnorm2d, relu, the pools, dropout and
// flatten keep their input's space (after a flatten, each channel is
// several features, one per position); add merges its two inputs' spaces.
// A dense or conv2d layer reads the space of its input.
type ChannelSpace struct {
	Channels int
	// Producers are the dense and conv2d layers whose outputs are in the
	// space, Norms its batchnorm2d layers, Members every layer whose output
	// is in the space (the producers and norms too), all in layer order.
	Producers []int
	Norms     []int
	Members   []int
	// Readers are the dense and conv2d layers that read the space.
	Readers []ChannelReader
	// Fixed says why no channel of the space can be removed ("" when they
	// can): it holds the model's input or the class scores, or a grouped
	// convolution reads or writes it.
	Fixed string
}

// ChannelReader is a dense or conv2d layer that reads a channel space: it
// reads the output of layer From (InputIndex: the model's input), which
// holds Per values per channel (the positions of a flattened image; 1 for
// a conv2d layer).
type ChannelReader struct {
	Layer int
	From  int
	Per   int
}

// ChannelSpaces is the channel-dependency analysis of a spec.
type ChannelSpaces struct {
	Spaces []ChannelSpace
	// Of is the space of each layer's output (an index into Spaces), Per
	// the values per channel in it (1 but after a flatten); Input is the
	// space of the model's input.
	Of    []int
	Per   []int
	Input int
}

// Space returns the space of layer i's output (InputIndex: the model's
// input).
func (cs *ChannelSpaces) Space(i int) *ChannelSpace {
	if i == InputIndex {
		return &cs.Spaces[cs.Input]
	}
	return &cs.Spaces[cs.Of[i]]
}

// CoupledChannels groups the channels of s into spaces (see ChannelSpace).
// The model's input and the last layer's output are fixed; so are the
// spaces a grouped convolution reads or writes (its filters are tied to its
// input channels), and spaces added together with a different number of
// values per channel (a flattened image added to a vector).
func CoupledChannels(s Spec) (*ChannelSpaces, error) {
	nodes, err := s.Nodes()
	if err != nil {
		return nil, err
	}
	type space struct {
		channels  int
		fixed     string
		producers []int
		norms     []int
		readers   []ChannelReader
	}
	var sp []*space
	parent := []int{}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	fresh := func(channels int, fixed string) int {
		sp = append(sp, &space{channels: channels, fixed: fixed})
		parent = append(parent, len(parent))
		return len(parent) - 1
	}
	fix := func(x int, why string) {
		if r := sp[find(x)]; r.fixed == "" {
			r.fixed = why
		}
	}
	union := func(a, b int) {
		a, b = find(a), find(b)
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		ra, rb := sp[a], sp[b]
		parent[b] = a
		if ra.fixed == "" {
			ra.fixed = rb.fixed
		}
		ra.producers = append(ra.producers, rb.producers...)
		ra.norms = append(ra.norms, rb.norms...)
		ra.readers = append(ra.readers, rb.readers...)
	}
	input := fresh(s.Input[0], "the model's input")
	of, per := make([]int, len(nodes)), make([]int, len(nodes))
	at := func(j int) (int, int) {
		if j == InputIndex {
			return input, 1
		}
		return of[j], per[j]
	}
	for i, n := range nodes {
		l := n.Layer
		in, inPer := at(n.Inputs[0])
		switch l.Kind {
		case Dense, Conv2d:
			units := l.Units
			if l.Kind == Conv2d {
				units = l.Filters
			}
			of[i], per[i] = fresh(units, ""), 1
			sp[of[i]].producers = append(sp[of[i]].producers, i)
			r := sp[find(in)]
			r.readers = append(r.readers, ChannelReader{Layer: i, From: n.Inputs[0], Per: inPer})
			if l.GroupsOrDefault() > 1 {
				fix(in, fmt.Sprintf("grouped convolution %q reads it", l.Name))
				fix(of[i], fmt.Sprintf("it is the output of grouped convolution %q", l.Name))
			}
		case Add:
			b, bPer := at(n.Inputs[1])
			of[i], per[i] = in, inPer
			if bPer != inPer {
				fix(in, fmt.Sprintf("add %q sums it with values of another layout", l.Name))
				fix(b, fmt.Sprintf("add %q sums it with values of another layout", l.Name))
				continue
			}
			union(in, b)
		case Flatten:
			of[i], per[i] = in, inPer
			if len(n.InShapes[0]) == 3 {
				per[i] = inPer * n.InShapes[0][1] * n.InShapes[0][2]
			}
		default:
			of[i], per[i] = in, inPer
			if l.Kind == BatchNorm2d {
				sp[find(in)].norms = append(sp[find(in)].norms, i)
			}
		}
	}
	fix(of[len(nodes)-1], "it holds the class scores")

	cs := &ChannelSpaces{Of: make([]int, len(nodes)), Per: per}
	index := map[int]int{}
	id := func(x int) int {
		r := find(x)
		k, ok := index[r]
		if !ok {
			k = len(cs.Spaces)
			index[r] = k
			s := sp[r]
			cs.Spaces = append(cs.Spaces, ChannelSpace{Channels: s.channels, Fixed: s.fixed,
				Producers: sortedInts(s.producers), Norms: sortedInts(s.norms), Readers: s.readers})
		}
		return k
	}
	cs.Input = id(input)
	for i := range nodes {
		cs.Of[i] = id(of[i])
		c := &cs.Spaces[cs.Of[i]]
		c.Members = append(c.Members, i)
	}
	for k := range cs.Spaces {
		rs := cs.Spaces[k].Readers
		sort.Slice(rs, func(a, b int) bool { return rs[a].Layer < rs[b].Layer })
	}
	return cs, nil
}

func sortedInts(s []int) []int {
	out := append([]int(nil), s...)
	sort.Ints(out)
	return out
}
