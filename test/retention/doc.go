// Package retention holds the end-to-end tests of retention and the archive:
// the whole system (a real kube-apiserver and etcd, the manager and the
// notification-receiver, alipay-sim over HTTP) with a real PostgreSQL that
// the tests start themselves (internal/pgtest). Archive then delete, the
// archive down, a crash between archive and delete, a refund or a
// notification that restores an archived payment, and a manifest re-applied
// after its payment was archived. The tests are in retention_test files.
package retention
