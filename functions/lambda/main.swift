import FunctionKit

// Placeholder until the Lambda platform (issue 4) lands.
FunctionIO.finish(FunctionResult(status: .failed, message: "the lambda function is not implemented yet"))
