// The DNS verifier's own thread (`VerifierThread` in verify.ts): it checks the batches the main
// thread sends with a verifier built from the same configuration, so that a large batch (a page
// of the daily sweep) is asked on its own event loop, beside the database work on the main one.
// With each batch's verdicts go the metrics counted for it, which the main thread adds to its own.
import { parentPort, workerData } from "node:worker_threads";
import { takeDnsTally } from "../metrics.ts";
import { createDnsVerifier, type DnsVerifierConfig, type VerifierThreadReply, type VerifierThreadRequest } from "./verify.ts";

const port = parentPort!;
const verifier = createDnsVerifier({ ...(workerData as DnsVerifierConfig), ownThread: false });

port.on("message", async ({ id, hostnames }: VerifierThreadRequest) => {
  let reply: VerifierThreadReply;
  try {
    reply = { id, verdicts: await verifier.verifyAll(hostnames), tally: takeDnsTally() };
  } catch (error) {
    reply = { id, error: error instanceof Error ? (error.stack ?? error.message) : String(error), tally: takeDnsTally() };
  }
  port.postMessage(reply);
});
