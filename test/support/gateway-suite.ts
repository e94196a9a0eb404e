import { after, before } from 'node:test';
import { startGatewayProcess, type GatewayProcess, type GatewayProcessOptions } from './gateway-process.js';
import { provisionCredential, type TestCredential } from './provision.js';

export interface GatewaySuite {
  readonly gateway: GatewayProcess;
  readonly credential: TestCredential;
}

/** A gateway process and a provisioned credential for the enclosing describe(), started before its tests and stopped after. */
export function gatewayWithCredential(options?: GatewayProcessOptions): GatewaySuite {
  const suite = {} as { gateway: GatewayProcess; credential: TestCredential };
  before(async () => {
    suite.gateway = await startGatewayProcess(options);
    suite.credential = await provisionCredential(suite.gateway.dataDir);
  });
  after(() => suite.gateway.stop());
  return suite;
}
