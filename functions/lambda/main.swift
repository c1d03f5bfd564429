// LAMBDA_SYNC, LAMBDA_CANARY_ROLLOUT, LAMBDA_PROMOTE and ROLLBACK for LambdaApp deployments, over the AWS
// Lambda REST API signed with SigV4 (Sources/LambdaPlatform). Safe to re-invoke: see StageProgress and
// DeploymentRecord for what is checkpointed and what is kept on the function.
import Foundation
import FunctionKit
import LambdaPlatform

FunctionIO.main { event in
    LambdaStages.run(event, environment: ProcessInfo.processInfo.environment)
}
