package handler

// ApiVersions, v0-4.
//
// Lists exactly the registered APIs and their ranges. v3 (KIP-511) adds the
// client software name and version, which must match Kafka's pattern, else
// INVALID_REQUEST. A request at an unsupported version is answered by the
// server at v0 with UNSUPPORTED_VERSION and the full list (KIP-511), so a
// client can retry at a version we speak; see UnsupportedApiVersions.
// From v3 the answer carries the supported and finalized features (KIP-584):
// transaction.version 2, transactions v2 (KIP-890 part 2), which clients
// read to send EndTxn v5, Produce v12 and TxnOffsetCommit v5.

import (
	"context"
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(18, 0, 4, apiVersions) }

var softwarePattern = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func apiVersions(h *Handler, _ context.Context, r kmsg.Request) Result {
	req := r.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 && (!softwarePattern.MatchString(req.ClientSoftwareName) || !softwarePattern.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return ready(resp)
	}
	fillApiKeys(resp)
	fillFeatures(resp)
	return ready(resp)
}

// transactionVersion is the transaction.version feature level Sluice runs
// at: 2, transactions v2.
const transactionVersion = 2

// fillFeatures lists the features (tagged fields, ignored before v3).
// The epoch is fixed: one broker finalizes its features once.
func fillFeatures(resp *kmsg.ApiVersionsResponse) {
	sf := kmsg.NewApiVersionsResponseSupportedFeature()
	sf.Name, sf.MinVersion, sf.MaxVersion = "transaction.version", 0, transactionVersion
	resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	ff := kmsg.NewApiVersionsResponseFinalizedFeature()
	ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = "transaction.version", transactionVersion, transactionVersion
	resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	resp.FinalizedFeaturesEpoch = 1
}

func fillApiKeys(resp *kmsg.ApiVersionsResponse) {
	for _, v := range Versions() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = v.Key, v.Min, v.Max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
}

// UnsupportedApiVersions is the v0 answer to an ApiVersions request at a
// version this broker does not speak.
func UnsupportedApiVersions() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	fillApiKeys(resp)
	return resp
}
