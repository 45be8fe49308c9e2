package awsdata

import "strings"

// retired are services AWS has ended (its end-of-support announcements) whose
// prefixes the service authorization reference no longer lists, though policies AWS
// published before still name them: ReadOnlyAccess v182 (2026-04-03) lists
// deepcomposer:* and iot1click:* actions. A policy naming them was valid when written;
// their actions now name nothing.
var retired = map[string]string{
	"deepcomposer":                    "AWS DeepComposer",
	"deeplens":                        "AWS DeepLens",
	"deepracer":                       "AWS DeepRacer",
	"elastic-inference":               "Amazon Elastic Inference",
	"iot1click":                       "AWS IoT 1-Click",
	"iotroborunner":                   "AWS IoT RoboRunner",
	"mobilehub":                       "AWS Mobile Hub",
	"sagemaker-groundtruth-synthetic": "Amazon SageMaker Ground Truth Synthetic",
	"zocalo":                          "Amazon WorkDocs",
}

// RetiredService reports whether prefix is a service AWS has ended, and its name.
func RetiredService(prefix string) (name string, ok bool) {
	name, ok = retired[strings.ToLower(prefix)]
	return name, ok
}
