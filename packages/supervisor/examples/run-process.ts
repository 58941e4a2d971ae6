// The run-process entry: every spawned run executes this file. An engine plugs its agent loop
// and redactor in here: runChild({ agent: runAgent, redactor }).
import { runChild } from "@promenade/supervisor/child";

runChild();
