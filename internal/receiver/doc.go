// Package receiver is the notification-receiver: an http.Handler that
// accepts the gateway's signed notifications (notifyPayment, notifyCapture,
// notifyRefund, notifyDispute), proves each one came from the gateway, and
// applies it to the Kubernetes object it is about through the same
// state-transition functions the controllers use (package transition).
//
// # Routes
//
// The operator puts <notificationBaseURL>/notify/<kind>/<namespace>/<name>
// (ids.NotifyURL) into every pay and refund request, and the gateway signs
// the path it posts to, so the object a notification names cannot be
// changed by anyone without the gateway's key:
//
//	POST /notify/payment/<ns>/<name>  notifyPayment → the Payment;
//	                                  notifyCapture → the Capture of that Payment whose
//	                                  ids.Capture (under its GatewayConfig's identityScope) is
//	                                  captureRequestId, or the Payment itself when it is
//	                                  ids.AutoCapture of the payment (the Payment
//	                                  controller's own capture in captureMode Automatic)
//	                                  or the payment's own paymentRequestId (the gateway's
//	                                  automatic capture): applied as "SUCCESS, captured
//	                                  captureAmount";
//	                                  notifyDispute → the Payment (when the merchant has no
//	                                  dashboard notification URL the gateway uses the pay
//	                                  request's URL).
//	POST /notify/refund/<ns>/<name>   notifyRefund → the Refund.
//	POST /notify                      the dashboard-configured URL: every kind, the object
//	                                  found through field indexes of the manager cache
//	                                  (SetupIndexes): Payments by status.paymentId (and
//	                                  spec.paymentId) or by their paymentRequestId,
//	                                  Refunds by their refundRequestId. Only objects whose
//	                                  GatewayConfig is the signing merchant's are
//	                                  candidates (gateway ids are unique per gateway, not
//	                                  across merchants or sandbox and production).
//
// Belonging is checked with the ids derived from the object's manifest
// under its GatewayConfig's identityScope, or recorded in its status
// (package ids), so a notification that beats the controller's status write
// still finds its object.
//
// # Verification, before any object is read
//
// In this order: method POST (405); Content-Type application/json with an
// optional UTF-8 charset (415); body at most MaxBodyBytes, 64 KiB by default
// (413); Client-Id, Request-Time and Signature headers present (401); the
// Client-Id belongs to a GatewayConfig (401; an unknown one makes the
// receiver list the GatewayConfigs and rebuild their connections, at most
// once per RefreshInterval); the RSA-SHA256 signature verifies with that
// GatewayConfig's gateway public key over the exact raw body and the path
// the request was sent to (401; an unparsable Request-Time is 400); and
// Request-Time within ±TimeWindow, 5 minutes by default (401). Then the
// route (404), the body (400) and the pairing of route and notification
// (400). Once the object is read, its GatewayConfig (spec.gatewayRef of the
// Payment, or of the Payment a Capture or Refund belongs to) must be one
// whose Client-Id and key signed the notification (401): a merchant can
// never move another merchant's objects.
//
// Every refusal changes nothing, counts in cashier_receiver_rejected_total
// by reason, writes one log line without the body, the signature or card
// data, and answers a JSON failure body
// {"result":{"resultCode":...,"resultStatus":"F","resultMessage":...}},
// which is never the acknowledgement, so the gateway re-sends.
//
// # Applying
//
// The notification becomes facts (transition.FromNotifyPayment,
// FromNotifyCapture, FromNotifyRefund; ApplyDispute for disputes), the
// facts are applied with transition.ApplyPayment / ApplyOperation /
// ApplyDispute, conditions are derived with SetPaymentConditions /
// SetOperationConditions exactly as the controllers do, and the status is
// written with Status().Update only when it changed. A conflict re-reads
// the object from the API server (uncached) and applies again
// (retry.RetryOnConflict). applyStatus in apply.go is that one step for
// Payments, Captures, Refunds (read through v1alpha1.PaymentOperation) and
// Disputes. Consequences:
//
//   - Duplicates change nothing (no write; the resourceVersion stays) and
//     are acknowledged.
//   - Stale or reordered notifications are ignored by the transition rules
//     (status never moves backwards) and acknowledged.
//   - Facts naming another gateway id, request id or amount than the object
//     (transition.ErrMismatch) are refused with HTTP 422, a Warning event
//     NotificationRefused on the object, and the metric; the gateway re-sends
//     and is refused each time, which is correct.
//   - The acknowledgement (gateway.NotificationAck, HTTP 200) is sent only
//     after the status write returned, or when nothing needed writing. An
//     API server error answers 503 so the gateway re-sends. The apply runs
//     on a context detached from the request, so a gateway that hangs up
//     cannot leave a write half done.
//
// # Unknown objects
//
// When the object a notification names (or, on the default route, no
// object at all) is not in the cache, the receiver confirms with an
// uncached read. If the confirming read fails, the answer is 503 and the
// gateway re-sends. If the object truly does not exist it was deleted,
// archived by retention, or (on the default route) belongs to a payment
// this cluster does not manage. A Refund whose Payment no longer exists is
// treated the same way: without the Payment its merchant connection, and
// so the notification's authority over it, cannot be established. A
// Capture notification whose Capture does not exist (none of the Payment's
// Captures has that captureRequestId) is acknowledged as unknown.
//
// Without an archive (Options.RestoreNamespace empty, or no GatewayConfig
// of the signing merchant with spec.retention or status.archives) deleting
// never moves money (deletionPolicy Orphan) and re-sends cannot bring the
// object back, so the notification is acknowledged, counted in
// cashier_receiver_unknown_object_total and logged.
//
// With an archive the receiver cannot tell deleted from archived (it holds
// no database credentials): it creates a PaymentRestore in
// RestoreNamespace (spec: the signing Client-Id, the notification kind, the
// route's object or the gateway ids; its name a digest of these, so
// re-sends find the same one and AlreadyExists is fine) and answers 503
// (outcome restore_requested), so the gateway re-sends. The manager
// searches the archives and records the outcome. On a re-send the object is
// back and the notification applies as usual; or the PaymentRestore says
// NotArchived or Failed (or Restored while the object itself, e.g. a final
// Refund, stays archived), and the notification is acknowledged and counted
// as unknown. While the PaymentRestore is undecided every re-send answers
// 503 again. An object deleted between the cache read and the status write
// answers 503 too: the re-send decides.
//
// # HTTP status codes
//
//	200 acknowledged (applied, duplicate, stale, or unknown object); body gateway.NotificationAck
//	400 unparsable Request-Time, body not a known notification, notification not for this route
//	401 missing headers, unknown Client-Id, bad signature, Request-Time outside the window,
//	    object of another merchant's GatewayConfig
//	404 not a notify route, or a namespace this receiver does not serve
//	405 not POST
//	413 body larger than MaxBodyBytes
//	415 not application/json
//	422 the notification contradicts the object (transition.ErrMismatch)
//	500 an internal error (the gateway re-sends)
//	503 the API server could not be read or written, or a restore from the archive was
//	    asked for (the gateway re-sends)
//
// # Events
//
// On the object, as the controllers emit them (package events writes both):
// one per phase transition (reason = the new phase, e.g. Succeeded, note
// "Payment Processing → Succeeded (notifyPayment)"); per dispute change DisputeOpened,
// DisputeDefenseSupplied, DisputeDefenseDue, DisputeJudged,
// DisputeCancelled, DisputeAccepted or DisputeUpdated; CaptureFailed when
// an automatic capture fails; and Warning NotificationRefused when a
// notification contradicts the object or names another merchant's object.
//
// # Metrics
//
//	cashier_receiver_notifications_total{kind,outcome}   kind: notifyPayment, notifyCapture,
//	                                                     notifyRefund, notifyDispute, or none
//	                                                     (refused before the body was read);
//	                                                     outcome: applied, duplicate, stale,
//	                                                     unknown_object, restore_requested,
//	                                                     rejected, mismatch, error
//	cashier_receiver_rejected_total{reason}              the Reason* constants
//	cashier_receiver_apply_duration_seconds{kind}        from the verified notification to the answer
//	cashier_receiver_unknown_object_total{kind}
package receiver

// RBAC of the notification-receiver: `make manifests` generates these into
// their own ClusterRole (config/rbac/receiver/role.yaml,
// notification-receiver-role), separate from the manager's. Only what this
// package does: read Payments, Captures, Refunds and GatewayConfigs (cache
// and uncached re-reads), Update the status of the first three, emit
// events.k8s.io Events, create and get PaymentRestores (restore.go). No
// Secret here: the credentials Secrets it verifies signatures with are granted by name (a Role with resourceNames per Secret
// namespace, from the chart's gatewayConfigs and rbac.credentialSecrets).
//
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=payments;captures;refunds;gatewayconfigs,verbs=get;list;watch
// +kubebuilder:rbac:groups=payments.cashier-operator.io,resources=payments/status;captures/status;refunds/status,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
//
// Further kinds the receiver writes (e.g. Disputes: create;get;patch) get
// their own marker line here.
