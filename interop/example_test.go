package interop_test

import (
	"fmt"
	"math/rand"

	"gorgonia.org/tensor"

	"github.com/spred-go/spred/interop"
	"github.com/spred-go/spred/models"
)

// Export a small CNN to ONNX and import it back.
func Example() {
	spec := models.Spec{Name: "small", Input: []int{1, 28, 28}, Loss: models.LossSoftmaxCrossEntropy,
		Layers: []models.Layer{
			{Kind: models.Conv2d, Name: "conv1", Filters: 4, Kernel: 5}, {Kind: models.MaxPool2d, Kernel: 2},
			{Kind: models.Flatten}, {Kind: models.Dense, Name: "fc1", Units: 10},
		}}
	m, err := models.New(spec, tensor.Float32, rand.New(rand.NewSource(1)))
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := interop.Encode(m, interop.ExportOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	back, rep, err := interop.Decode(b, interop.ImportOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("opset %d, input %v, %d parameters\n", rep.Opset, rep.Input, back.Params.Count())
	for _, l := range rep.Layers {
		fmt.Println(l.Layer.Kind, l.Layer.Name, l.Nodes)
	}
	// Output:
	// opset 13, input [1 28 28], 5874 parameters
	// conv2d conv1 [node "conv1" (Conv)]
	// maxpool2d  [node "maxpool2d_1" (MaxPool)]
	// flatten  [node "flatten_2" (Flatten)]
	// dense fc1 [node "fc1" (Gemm)]
}
