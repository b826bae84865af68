import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  ResourcePatternTypes,
  logLevel,
  type AclEntry,
} from 'kafkajs';
import { KAFKA_CONNECTION_SOURCES, type KafkaConnectionInput } from '../../src/config/kafka-connection';
import { parseKafkaConnection } from '../../src/config/load-kafka-connection';
import { kafkaClientConfig } from '../../src/kafka/kafka-client';
import { silentLogger } from '../../src/observability/logger';
import { gatewayEnv, type GatewayNames } from './gateway-fixture';
import type { TestStack } from './test-stack';
import {
  passwordFile,
  stackVar,
  userName,
  type SecuredStack,
  type StackMechanism,
  type StackUser,
} from './secured-stack';
import { unique } from './unique';
import { waitFor } from './wait-for';

const exec = promisify(execFile);

/** A client certificate and its key (PEM files), for mTLS. */
export interface ClientCertificate {
  certFile: string;
  keyFile: string;
}

/**
 * How `user` connects to `stack`, as {@link KafkaConnectionInput} (the responder kit's `connection`,
 * `createEchoService({ connection })`): SASL with `mechanism` (default the stack's first enabled)
 * on SASL stacks, the user's client certificate (or `certificate`) on `ssl` (mTLS) stacks; always
 * with the stack's CA.
 */
export function connectionAs(
  stack: SecuredStack,
  user: StackUser,
  options: { mechanism?: StackMechanism; certificate?: ClientCertificate } = {},
): KafkaConnectionInput {
  const tls = stack.protocol === 'SSL' || stack.protocol === 'SASL_SSL';
  const out: KafkaConnectionInput = { kafkaSecurityProtocol: stack.protocol };
  if (tls) out.kafkaTlsCaFile = stackVar(stack, 'STACK_KAFKA_CA_FILE');
  if (stack.protocol === 'SSL') {
    const cert = options.certificate ?? stackCertificate(stack, user);
    out.kafkaTlsCertFile = cert.certFile;
    out.kafkaTlsKeyFile = cert.keyFile;
    return out;
  }
  const mechanism =
    options.mechanism ?? (stackVar(stack, 'STACK_KAFKA_SASL_ENABLED_MECHANISMS').split(',')[0] as StackMechanism);
  out.kafkaSaslMechanism = mechanism;
  if (mechanism === 'OAUTHBEARER') {
    out.kafkaOauthTokenUrl = stackVar(stack, 'STACK_KAFKA_OAUTH_TOKEN_URL');
    out.kafkaOauthClientId = userName(stack, user);
    out.kafkaOauthClientSecretFile = stackVar(
      stack,
      user === 'app'
        ? 'STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE'
        : `STACK_KAFKA_${user.toUpperCase()}_OAUTH_CLIENT_SECRET_FILE`,
    );
  } else {
    out.kafkaSaslUsername = userName(stack, user);
    out.kafkaSaslPasswordFile = passwordFile(stack, user);
  }
  return out;
}

/** The client certificate stack.sh made for a user of an `ssl` stack. */
function stackCertificate(stack: SecuredStack, user: StackUser): ClientCertificate {
  const prefix = user === 'app' ? 'STACK_KAFKA_CLIENT' : `STACK_KAFKA_${user.toUpperCase()}`;
  return { certFile: stackVar(stack, `${prefix}_CERT_FILE`), keyFile: stackVar(stack, `${prefix}_KEY_FILE`) };
}

/** A client certificate made by {@link mintClientCertificate}, and the principal it stands for. */
export interface MintedCertificate extends ClientCertificate {
  /** `User:<cn>` (the stack maps a certificate's CN to the user name). */
  principal: string;
}

/**
 * A new client certificate for principal `User:<cn>` on an `ssl` (mTLS) stack, signed by the
 * stack's throwaway CA (`<state>/tls/ca.key`): as many distinct principals as a test needs.
 */
export async function mintClientCertificate(stack: SecuredStack, cn: string): Promise<MintedCertificate> {
  const tlsDir = join(stack.dir, 'tls');
  const dir = mkdtempSync(join(tmpdir(), 'replygate-cert-'));
  const keyFile = join(dir, `${cn}.key`);
  const csr = join(dir, `${cn}.csr`);
  const certFile = join(dir, `${cn}.crt`);
  const ext = join(dir, 'client.ext');
  writeFileSync(
    ext,
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  // prettier-ignore
  await exec('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256',
    '-keyout', keyFile, '-out', csr, '-subj', `/CN=${cn}`]);
  // prettier-ignore
  await exec('openssl', ['x509', '-req', '-in', csr, '-CA', join(tlsDir, 'ca.crt'), '-CAkey', join(tlsDir, 'ca.key'),
    '-CAcreateserial', '-CAserial', join(dir, 'ca.srl'), '-days', '2', '-sha256', '-extfile', ext, '-out', certFile]);
  return { certFile, keyFile, principal: `User:${cn}` };
}

/**
 * The environment variables of a connection (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`,
 * `KAFKA_TLS_*`, `KAFKA_OAUTH_*`), named once in `KAFKA_CONNECTION_SOURCES`: the env block a
 * gateway child process gets.
 */
export function connectionEnv(connection: KafkaConnectionInput): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(connection)) {
    if (value === undefined) continue;
    const source = KAFKA_CONNECTION_SOURCES[key as keyof KafkaConnectionInput];
    out[source.env] = String(value);
  }
  return out;
}

/** Env for a gateway child process on a secured stack, connecting with `connection`. */
export function securedGatewayEnv(
  stack: SecuredStack,
  names: GatewayNames,
  connection: KafkaConnectionInput,
  extra: Record<string, string> = {},
): Record<string, string> {
  // As a stack this run started: the connection variables a shell may have set are blanked, then this user's set.
  const asTestStack: TestStack = {
    kafkaBrokers: stack.kafkaBrokers,
    redisUrl: stack.redisUrl,
    redisEnv: stack.redisEnv,
    redisShape: 'standalone',
    source: 'local',
    stop: async () => undefined,
  };
  return {
    ...gatewayEnv(asTestStack, names, { REPLYGATE_REPLY_TOPIC_PARTITIONS: '2' }),
    ...connectionEnv(connection),
    ...extra,
  };
}

/** A quiet kafkajs client connecting as `connection` (the project's own TLS/SASL wiring). */
export function securedKafka(stack: SecuredStack, connection: KafkaConnectionInput, clientId = unique('test')): Kafka {
  const config = kafkaClientConfig(stack.kafkaBrokers, clientId, silentLogger(), parseKafkaConnection(connection));
  return new Kafka({ ...config, logLevel: logLevel.NOTHING, logCreator: undefined });
}

/** A kafkajs client as the stack's super user `admin`. */
export function adminKafka(stack: SecuredStack): Kafka {
  return securedKafka(stack, connectionAs(stack, 'admin'), unique('test-admin'));
}

/** Create topics as admin (idempotent) and wait until each has a leader. */
export async function createTopicsAsAdmin(stack: SecuredStack, topics: string[], numPartitions = 2): Promise<void> {
  const admin = adminKafka(stack).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions })), waitForLeaders: true });
    await waitFor(
      async () => {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics });
        return meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      },
      30_000,
      `leaders of ${topics.join(', ')}`,
      100,
    );
  } finally {
    await admin.disconnect();
  }
}

/** One ACL line in words: `User:x` may do `operations` on a topic, a group or the cluster. */
export interface AclGrant {
  principal: string;
  resource: 'topic' | 'group' | 'cluster';
  /** The name, or a prefix when `prefixed`. */
  name: string;
  prefixed?: boolean;
  operations: readonly ('READ' | 'WRITE' | 'DESCRIBE' | 'CREATE' | 'DELETE' | 'IDEMPOTENT_WRITE' | 'ALL')[];
}

const RESOURCE_TYPES = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  cluster: AclResourceTypes.CLUSTER,
} as const;

/** kafkajs `AclEntry` lines of grants. */
export function aclEntries(grants: readonly AclGrant[]): AclEntry[] {
  return grants.flatMap((g) =>
    g.operations.map((op) => ({
      resourceType: RESOURCE_TYPES[g.resource],
      resourceName: g.resource === 'cluster' ? 'kafka-cluster' : g.name,
      resourcePatternType: g.prefixed === true ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      principal: g.principal,
      host: '*',
      operation: AclOperationTypes[op],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

/**
 * Grant ACLs as the stack's super user, then wait until `describeAcls` lists every one of them:
 * they take effect shortly after `createAcls` returns, not at once.
 */
export async function grantAcls(stack: SecuredStack, grants: readonly AclGrant[]): Promise<void> {
  const entries = aclEntries(grants);
  if (entries.length === 0) return;
  const admin = adminKafka(stack).admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: entries });
    const key = (e: {
      resourceType: number;
      resourceName: string;
      resourcePatternType: number;
      principal: string;
      operation: number;
    }) => `${e.resourceType}|${e.resourceName}|${e.resourcePatternType}|${e.principal}|${e.operation}`;
    const wanted = new Set(entries.map(key));
    await waitFor(
      async () => {
        const { resources } = await admin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ALLOW,
        });
        const listed = new Set(
          resources.flatMap((r) =>
            r.acls.map((a) =>
              key({
                resourceType: r.resourceType,
                resourceName: r.resourceName,
                resourcePatternType: r.resourcePatternType,
                principal: a.principal,
                operation: a.operation,
              }),
            ),
          ),
        );
        return [...wanted].every((k) => listed.has(k));
      },
      20_000,
      `${entries.length} ACLs listed by describeAcls`,
      100,
    );
  } finally {
    await admin.disconnect();
  }
}
