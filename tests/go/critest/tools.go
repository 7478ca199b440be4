//go:build tools

// critest is a test binary (`go test -c sigs.k8s.io/cri-tools/cmd/critest`), and `go mod
// tidy` keeps only what this module's own packages import: these imports keep the test's
// packages, and so their pins, in go.mod and go.sum.
package tools

import (
	_ "github.com/onsi/ginkgo/v2"
	_ "github.com/onsi/gomega"
	_ "sigs.k8s.io/cri-tools/pkg/benchmark"
	_ "sigs.k8s.io/cri-tools/pkg/framework"
	_ "sigs.k8s.io/cri-tools/pkg/validate"
)
