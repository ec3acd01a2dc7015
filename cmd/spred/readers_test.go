package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"github.com/spred-go/spred/internal/npy"
	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// hostileReaders are small files whose size claims would make a reader
// allocate far beyond what they hold, and ONNX graphs with empty input
// names, for TestBadInput's "readers: size claims" block.
type hostileReaders struct {
	sparseONNX    string // a sparse initializer of [784, 301614] with one value
	sparseIndex   string // a safetensors index form of 8192 slots per stored value
	convPad       string // a conv2d padded by 5000
	idxDir        string // an idx folder whose gzipped training images claim 5.47 million 28×28 images
	inflatedCSV   string // a gzipped CSV whose one row inflates to 20 MB
	gatherEmpty   string // a Gather whose indices are named ""
	addConstEmpty string // an Add of a constant and ""
}

func makeHostileReaders(t *testing.T, dir string) hostileReaders {
	t.Helper()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newModel := func(spec models.Spec) *models.Model {
		m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ce := models.LossSoftmaxCrossEntropy
	onnxOf := func(m *models.Model, f func(g *onnx.GraphProto)) []byte {
		b, err := interop.Encode(m, interop.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var mp onnx.ModelProto
		if err := proto.Unmarshal(b, &mp); err != nil {
			t.Fatal(err)
		}
		f(mp.Graph)
		if b, err = proto.Marshal(&mp); err != nil {
			t.Fatal(err)
		}
		return b
	}
	var h hostileReaders

	// 236 million dense values (944 MB) from a file of a few kB.
	dense := newModel(models.Spec{Name: "d", Input: []int{784}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 2}}, Loss: ce})
	h.sparseONNX = write("sparse-claim.onnx", onnxOf(dense, func(g *onnx.GraphProto) {
		one := binary.LittleEndian.AppendUint32(nil, math.Float32bits(1))
		g.Initializer = g.Initializer[1:] // fc/b stays
		g.SparseInitializer = []*onnx.SparseTensorProto{{
			Values:  &onnx.TensorProto{Name: "fc/W", Dims: []int64{1}, DataType: int32(onnx.TensorProto_FLOAT), RawData: one},
			Indices: &onnx.TensorProto{Name: "fc/W_indices", Dims: []int64{1}, DataType: int32(onnx.TensorProto_INT64), RawData: make([]byte, 8)},
			Dims:    []int64{784, 301614},
		}}
	}))

	// The index form: 64 stored values spread over 8192·64 slots (2 MiB of
	// float32 from 512 bytes of data; a large file of this kind claims
	// gigabytes).
	spec := models.Spec{Name: "spread", Input: []int{8192}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 64, NoBias: true}}, Loss: ce}
	specJSON, err := models.MarshalSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	sparseJSON, _ := json.Marshal(map[string]models.SparseEntry{"fc/W": {Encoding: models.EncodingIndex, Shape: []int{8192, 64}, Stored: 64}})
	var data []byte
	for j := range 64 {
		data = binary.LittleEndian.AppendUint32(data, uint32(j*8192))
	}
	for range 64 {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(1))
	}
	header, _ := json.Marshal(map[string]any{
		"__metadata__": map[string]string{models.MetaFormat: models.FormatName, models.MetaSpec: string(specJSON), models.MetaSparse: string(sparseJSON)},
		"fc/W.index":   map[string]any{"dtype": "U32", "shape": []int{64}, "data_offsets": []int{0, 256}},
		"fc/W.values":  map[string]any{"dtype": "F32", "shape": []int{64}, "data_offsets": []int{256, 512}},
	})
	h.sparseIndex = write("spread.safetensors", append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...), data...))

	// A conv2d padded by 5000: 10026×10026 values per channel and sample.
	conv := newModel(models.Spec{Name: "pad", Input: []int{1, 28, 28}, Loss: ce, Layers: []models.Layer{
		{Kind: models.Conv2d, Name: "c", Filters: 4, Kernel: 3, Padding: 1}, {Kind: models.GlobalAvgPool2d}, {Kind: models.Flatten},
		{Kind: models.Dense, Name: "fc", Units: 10}}})
	var buf bytes.Buffer
	if err := models.Encode(&buf, conv); err != nil {
		t.Fatal(err)
	}
	h.convPad = write("pad5000.safetensors", rewriteHeader(t, buf.Bytes(), func(hd map[string]interface{}) {
		meta := hd["__metadata__"].(map[string]interface{})
		s := meta[models.MetaSpec].(string)
		if !strings.Contains(s, `"padding":1`) {
			t.Fatalf("spec %s has no padding 1", s)
		}
		meta[models.MetaSpec] = strings.Replace(s, `"padding":1`, `"padding":5000`, 1)
	}))

	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	idxHeader := func(magic uint32, dims ...uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, magic)
		for _, d := range dims {
			b = binary.BigEndian.AppendUint32(b, d)
		}
		return b
	}
	h.idxDir = t.TempDir()
	for name, b := range map[string][]byte{
		"train-images-idx3-ubyte.gz": gz(append(idxHeader(0x803, 5_470_000, 28, 28), make([]byte, 1<<20)...)),
		"train-labels-idx1-ubyte.gz": gz(append(idxHeader(0x801, 1), 0)),
		"t10k-images-idx3-ubyte.gz":  gz(append(idxHeader(0x803, 1, 28, 28), make([]byte, 784)...)),
		"t10k-labels-idx1-ubyte.gz":  gz(append(idxHeader(0x801, 1), 0)),
	} {
		if err := os.WriteFile(filepath.Join(h.idxDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	h.inflatedCSV = write("inflated.csv.gz", gz([]byte("a,y\n"+strings.Repeat("0", 20<<20)+",1\n")))

	mlp := newModel(models.Spec{Name: "m", Input: []int{4}, Layers: []models.Layer{{Kind: models.Dense, Name: "fc", Units: 2}}, Loss: ce})
	shapeConst := &onnx.NodeProto{OpType: "Constant", Output: []string{"c"}, Attribute: []*onnx.AttributeProto{{
		Name: "value", Type: onnx.AttributeProto_TENSOR,
		T: &onnx.TensorProto{Dims: []int64{2}, DataType: int32(onnx.TensorProto_INT64), RawData: make([]byte, 16)}}}}
	prepend := func(n *onnx.NodeProto) func(g *onnx.GraphProto) {
		return func(g *onnx.GraphProto) { g.Node = append([]*onnx.NodeProto{shapeConst, n}, g.Node...) }
	}
	h.gatherEmpty = write("gather.onnx", onnxOf(mlp, prepend(&onnx.NodeProto{Name: "g", OpType: "Gather", Input: []string{"c", ""}, Output: []string{"o"}})))
	h.addConstEmpty = write("addconst.onnx", onnxOf(mlp, prepend(&onnx.NodeProto{Name: "a", OpType: "Add", Input: []string{"c", ""}, Output: []string{"o"}})))
	return h
}

// TestPredictClampsBatch: a --batch far beyond the array and what memory
// holds runs with the engine sized for the array (and within
// infer.MaxBufferValues), and gives the logits of a small batch.
func TestPredictClampsBatch(t *testing.T) {
	dir := t.TempDir()
	spec, err := models.Lookup("lenet-300-100")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.safetensors")
	if err := models.WriteFile(model, m); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "x.npy")
	x := randomArray(t, in, 5, []int{784}, 4)
	out := filepath.Join(dir, "y.npy")
	code, stdout, errs := runApp(t, "predict", "--model", model, "--input", in, "--out", out, "--batch", "1000000000")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errs)
	}
	got, err := npy.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The engine at batch 2 is the reference; a BLAS may round products
	// of another batch size differently in the last bits.
	want := enginePredict(t, m, x.Data, 2)
	for i := range want {
		if d := math.Abs(float64(got.Data[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("logit %d: %v, want %v", i, got.Data[i], want[i])
		}
	}
}
