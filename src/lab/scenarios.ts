// The seed's experiment as data: six scenarios, each a steering rule, a consumer (or none), and one or
// two client requests with the outcome the seed document describes.

export type Outcome = '200' | 'timeout';

export interface ConsumerSpec {
  /** The seed's nfq_set_verdict2: replace the whole mark with this value. */
  unsafeWholeMark?: number;
  /** nfqguard: own these bits and set these. */
  markMask?: number;
  mark?: number;
}

export interface RequestSpec {
  /** Suffix of the scenario name for the second request of a scenario. */
  suffix?: string;
  /** Client source address: 127.0.0.2 is the client a KUBE-MARK-DROP-style rule marks 0x8000. */
  client: '127.0.0.1' | '127.0.0.2';
  expected: Outcome;
  /** Expected marks as the kernel sees them before and after the verdict (null: never gets there). */
  expectedBefore: number;
  expectedAfter: number | null;
  explanation: string;
}

export interface ScenarioSpec {
  number: number;
  name: string;
  title: string;
  bypass: boolean;
  consumer: ConsumerSpec | null;
  /** The seed's fix: clear the whole mark in a chain right after the queue (mangle + 1). */
  clearAfterVerdict?: boolean;
  /** Mark 0x4000 (kube-proxy's masquerade bit) on the legitimate client before the queue. */
  premarkMasq?: boolean;
  /** Mark 0x8000 on 127.0.0.2 before the queue, as KUBE-MARK-DROP would. */
  premarkDrop?: boolean;
  requests: RequestSpec[];
}

export const KUBE_DROP_BIT = 0x8000;
export const KUBE_MASQ_BIT = 0x4000;
export const LAB_MASK = 0x00f00000;
export const LAB_BITS = 0x00100000;

export const SCENARIOS: ScenarioSpec[] = [
  {
    number: 1,
    name: 'no-consumer',
    title: 'steering rule without bypass, no consumer',
    bypass: false,
    consumer: null,
    requests: [
      {
        client: '127.0.0.1',
        expected: 'timeout',
        expectedBefore: 0,
        expectedAfter: null,
        explanation: 'nobody is bound to the queue and the rule has no --queue-bypass: the kernel drops every packet (the silent black hole when an inspector dies)',
      },
    ],
  },
  {
    number: 2,
    name: 'whole-mark-0x8000',
    title: "consumer sets the whole mark to 0x8000 (the seed's ./a.out block)",
    bypass: false,
    consumer: { unsafeWholeMark: KUBE_DROP_BIT },
    requests: [
      {
        client: '127.0.0.1',
        expected: 'timeout',
        expectedBefore: 0,
        expectedAfter: KUBE_DROP_BIT,
        explanation: "the verdict replaces the whole mark with 0x8000, kubelet's drop bit: KUBE-FIREWALL drops every queued packet (all Pods lose their network)",
      },
    ],
  },
  {
    number: 3,
    name: 'whole-mark-0',
    title: "consumer sets the whole mark to 0 (the seed's default)",
    bypass: false,
    consumer: { unsafeWholeMark: 0 },
    requests: [
      {
        client: '127.0.0.1',
        expected: '200',
        expectedBefore: 0,
        expectedAfter: 0,
        explanation: 'mark 0 does not carry the drop bit, so the request passes; but the verdict still overwrites any mark others set',
      },
    ],
  },
  {
    number: 4,
    name: 'seed-fix-clear-mark',
    title: "the seed's fix: whole mark 0x8000, cleared right after the verdict (mangle + 1)",
    bypass: false,
    consumer: { unsafeWholeMark: KUBE_DROP_BIT },
    clearAfterVerdict: true,
    premarkDrop: true,
    requests: [
      {
        client: '127.0.0.1',
        expected: '200',
        expectedBefore: 0,
        expectedAfter: KUBE_DROP_BIT,
        explanation: 'the verdict sets 0x8000 and the next hook clears the whole mark before KUBE-FIREWALL sees it: the request passes',
      },
      {
        suffix: 'premarked-drop',
        client: '127.0.0.2',
        expected: '200',
        expectedBefore: KUBE_DROP_BIT,
        expectedAfter: KUBE_DROP_BIT,
        explanation:
          'this packet was marked 0x8000 by a KUBE-MARK-DROP-style rule and must be dropped, but the clear erases that mark too: it gets through (the fix breaks kube-proxy)',
      },
    ],
  },
  {
    number: 5,
    name: 'owned-mask',
    title: 'nfqguard: mark-owning verdict (mask 0x00f00000, bits 0x00100000)',
    bypass: false,
    consumer: { markMask: LAB_MASK, mark: LAB_BITS },
    premarkMasq: true,
    premarkDrop: true,
    requests: [
      {
        client: '127.0.0.1',
        expected: '200',
        expectedBefore: KUBE_MASQ_BIT,
        expectedAfter: KUBE_MASQ_BIT | LAB_BITS,
        explanation: 'only the owned bits change: 0x4000 set before the queue is still on the packet after the verdict, with 0x00100000 added; the request passes',
      },
      {
        suffix: 'premarked-drop',
        client: '127.0.0.2',
        expected: 'timeout',
        expectedBefore: KUBE_DROP_BIT,
        expectedAfter: KUBE_DROP_BIT | LAB_BITS,
        explanation: "the KUBE-MARK-DROP-style 0x8000 survives the verdict, so KUBE-FIREWALL still drops this packet, as kube-proxy intends",
      },
    ],
  },
  {
    number: 6,
    name: 'bypass-no-consumer',
    title: 'steering rule with --queue-bypass, no consumer',
    bypass: true,
    consumer: null,
    requests: [
      {
        client: '127.0.0.1',
        expected: '200',
        expectedBefore: 0,
        expectedAfter: 0,
        explanation: 'with --queue-bypass the kernel accepts packets when nobody listens: a dead inspector no longer takes the node down',
      },
    ],
  },
];
