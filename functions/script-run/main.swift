// SCRIPT_RUN / SCRIPT_RUN_ROLLBACK: run the stage's shell script in the app's directory.
//
// Not idempotent by itself: if the server dies while a script runs, the stage is re-invoked (attempt 2 and
// on) and simply runs the script again from the start; the stage log shows the attempt. Scripts that change
// outside systems should tolerate a second run (SR_DEPLOYMENT_ID identifies the deployment).
import FunctionKit

FunctionIO.main { event in
    guard let plan = try ScriptPlan(event) else {
        FunctionIO.log("no onRollback script: nothing to roll back")
        return FunctionResult(status: .succeeded, message: "nothing to roll back")
    }
    let what = plan.rollback ? "onRollback script" : "script"
    FunctionIO.log("running \(what) in \(plan.directory) (attempt \(event.invocation.attempt), timeout \(DurationText.format(plan.timeout)))")
    let runner = ScriptRunner(script: plan.script, directory: plan.directory, environment: plan.environment,
                              timeout: plan.timeout)
    let result: FunctionResult
    switch try runner.run() {
    case .exited(0):
        result = FunctionResult(status: .succeeded, message: "\(what) succeeded")
    case .exited(let code):
        result = FunctionResult(status: .failed, message: "\(what) exited with status \(code)")
    case .killedBySignal(let signal):
        result = FunctionResult(status: .failed, message: "\(what) was killed by \(SignalName.describe(signal))")
    case .timedOut:
        result = FunctionResult(status: .failed, message: "\(what) timed out after \(DurationText.format(plan.timeout))")
    }
    FunctionIO.log(result.message ?? "")
    return result
}
