package s3

import (
	"errors"

	"github.com/aws/smithy-go"
)

// S3 reports failed conditions and missing objects by error code, and HEAD
// responses (no body) only by status; these test both.

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// isPrecondition: a conditional request found the object not as required.
// AWS may also answer a racing conditional write with 409
// ConditionalRequestConflict, which means the same to a caller.
func isPrecondition(err error) bool {
	if err == nil {
		return false
	}
	code := errorCode(err)
	return code == "PreconditionFailed" || code == "ConditionalRequestConflict" || httpStatus(err) == 412
}

// isNotFound: the object (not the bucket) does not exist.
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "":
		return httpStatus(err) == 404
	}
	return false
}
