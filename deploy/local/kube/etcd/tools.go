//go:build tools

// The etcd server command, imported so `go mod tidy` records its dependencies in go.sum.
package tools

import _ "go.etcd.io/etcd/server/v3"
