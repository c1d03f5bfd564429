// ANALYSIS for any application: metrics checks against the server config's Prometheus providers and HTTP checks,
// in rounds, holding no process between them (Sources/Analysis). Outbound HTTP needs FoundationNetworking, so
// this function links Foundation dynamically, as the lambda function does.
import Analysis
import Foundation
import FunctionKit

FunctionIO.main { event in
    AnalysisStage.run(event, environment: ProcessInfo.processInfo.environment)
}
