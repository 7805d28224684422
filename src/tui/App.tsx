/**
 * `agent chat`: the agents on the left, the conversation with the selected one (finished lines
 * printed once above, the live tail and the agent's activity in the pane), the input line, the
 * status line and the keys. Everything it talks to comes in as props (see types.ts).
 */
import { Box, useApp, useStdout } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AgentSummary, DaemonOverview } from '../control/types.js';
import type { RuntimeEvent } from '../runtime/events.js';
import { applyEvent, withTicks, type ActivityMap } from './activity.js';
import { AgentList } from './AgentList.js';
import { ApprovalBar } from './ApprovalBar.js';
import { ChatPane } from './ChatPane.js';
import { EMPTY_CONVERSATION, splitFinished } from './conversation.js';
import { DaemonDown } from './DaemonDown.js';
import { InputLine } from './InputLine.js';
import { KeyHints } from './KeyHints.js';
import { StatusBar } from './StatusBar.js';
import { ThemeContext } from './theme.js';
import { TrajectoryView, trajectoryLines } from './TrajectoryView.js';
import { Transcript } from './Transcript.js';
import type { ChatControl, ChatTransport, Pane } from './types.js';
import { useConversations } from './use-conversations.js';
import { useDraft } from './use-draft.js';
import { useDaemon } from './use-daemon.js';
import { useKeys } from './use-keys.js';
import { useSynced } from './use-synced.js';

/** Props of the chat app. Defaults: colors on, poll every 2 s, 200 history messages, 20 ticks. */
export interface ChatAppProps {
  control: ChatControl;
  transport: ChatTransport;
  /** Agent to open first: a name, npub or hex public key (else the first agent). */
  initialAgent?: string;
  /** An overview already fetched (so the first frame has the agents). */
  initialOverview?: DaemonOverview;
  /** Shown in the daemon-down banner. */
  home?: string;
  color?: boolean;
  pollMs?: number;
  historyLimit?: number;
  tickLimit?: number;
  now?: () => number;
}

/** Finds an agent by name, npub or hex public key. */
export function findAgent(agents: readonly AgentSummary[], ref: string | undefined): AgentSummary | undefined {
  if (!ref) return undefined;
  return agents.find((a) => a.name === ref || a.npub === ref || a.publicKey === ref.toLowerCase());
}

/** Clears the screen and scrollback so a remounted transcript starts on a clean page (real terminals only). */
const CLEAR = '\u001b[2J\u001b[3J\u001b[H';

/** The whole chat screen. */
export function ChatApp(props: ChatAppProps) {
  const { control, transport, pollMs = 2000, historyLimit = 200, tickLimit = 20, now = Date.now } = props;
  const { exit } = useApp();
  const { stdout } = useStdout();
  const columns = stdout.columns || 80;
  const rows = stdout.rows || 24;
  const [activity, setActivity] = useState<ActivityMap>({});
  const [selectedKey, setSelectedKey, selectedRef] = useSynced<string | undefined>(undefined);
  const [pane, setPane, paneRef] = useSynced<Pane>('input');
  const draft = useDraft();
  const [trajectory, setTrajectory] = useState(false);
  const [epoch, setEpoch] = useState(0);

  const daemon = useDaemon(control, {
    pollMs,
    initial: props.initialOverview,
    onEvent: useCallback((event: RuntimeEvent) => setActivity((map) => applyEvent(map, event)), []),
  });

  // Terminated agents keep their records but take no messages: they are not offered.
  const agents = useMemo(() => (daemon.overview?.agents ?? []).filter((a) => a.state !== 'terminated'), [daemon.overview]);
  const agentsRef = useRef(agents);
  agentsRef.current = agents;
  // The owner's choice, else the agent asked for on the command line, else the first one.
  const resolve = (list: readonly AgentSummary[], key: string | undefined): AgentSummary | undefined =>
    list.find((a) => a.publicKey === key) ?? findAgent(list, props.initialAgent) ?? list[0];
  const selected = resolve(agents, selectedKey);
  // Key handlers resolve the selection from refs: React may not have re-rendered since the last key.
  const selectedNow = (): AgentSummary | undefined => resolve(agentsRef.current, selectedRef.current);

  const { conversations, historyErrors, send } = useConversations(transport, selected, { historyLimit, now });

  // Earlier ticks from the daemon, when it offers them, the first time the trajectory view opens.
  const [ticksAsked] = useState(() => new Set<string>());
  useEffect(() => {
    if (!trajectory || !selected || !control.ticks || ticksAsked.has(selected.publicKey)) return;
    ticksAsked.add(selected.publicKey);
    const key = selected.publicKey;
    control.ticks(selected.name, tickLimit).then(
      (ticks) => setActivity((map) => withTicks(map, key, ticks)),
      () => ticksAsked.delete(key),
    );
  }, [trajectory, selected, control, tickLimit, ticksAsked]);

  const choose = (step: number): void => {
    const list = agentsRef.current;
    const current = selectedNow();
    const at = list.findIndex((a) => a.publicKey === current?.publicKey);
    const next = list[(Math.max(0, at) + step + list.length) % list.length];
    if (!next || next.publicKey === current?.publicKey) return;
    if (stdout.isTTY) stdout.write(CLEAR);
    setEpoch((e) => e + 1);
    setSelectedKey(next.publicKey);
  };

  // Lines already printed keep the old width: on a resize, reprint the transcript on a clean page.
  useEffect(() => {
    if (!stdout.isTTY) return;
    let width = stdout.columns;
    const onResize = (): void => {
      if (stdout.columns === width) return;
      width = stdout.columns;
      stdout.write(CLEAR);
      setEpoch((e) => e + 1);
    };
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  // Approvals answered from here: hidden at once (the overview shows them gone a poll later), never sent twice.
  const [answered, setAnswered] = useState<ReadonlySet<string>>(() => new Set());
  const answeredRef = useRef(answered);
  answeredRef.current = answered;
  const waiting = (agent: AgentSummary | undefined, skip: ReadonlySet<string>) => (agent?.approvals ?? []).filter((a) => !skip.has(`${agent!.publicKey}:${a.code}`));

  useKeys({
    pane: () => paneRef.current,
    onApproval: (approve) => {
      const agent = selectedNow();
      const first = waiting(agent, answeredRef.current)[0];
      if (!agent || !first) return;
      const key = `${agent.publicKey}:${first.code}`;
      answeredRef.current = new Set([...answeredRef.current, key]);
      setAnswered(answeredRef.current);
      // The owner's own DM command: the daemon handles it like one sent from any Nostr client.
      send(agent, `${approve ? '/approve' : '/deny'} ${first.code}`);
    },
    onQuit: exit,
    onToggleTrajectory: () => setTrajectory((t) => !t),
    onEscape: () => setTrajectory(false),
    onSwitchPane: () => setPane(paneRef.current === 'input' ? 'agents' : 'input'),
    onFocusInput: () => setPane('input'),
    onSelect: choose,
    onType: draft.type,
    onBackspace: draft.backspace,
    onClear: draft.clear,
    onSubmit: () => {
      const agent = selectedNow();
      if (!agent) return;
      const text = draft.take();
      if (text) send(agent, text);
    },
  });

  const conversation = (selected && conversations[selected.publicKey]) || EMPTY_CONVERSATION;
  const { finished, live } = splitFinished(conversation);
  const unread = useMemo(() => Object.fromEntries(Object.entries(conversations).map(([k, c]) => [k, c.unread])), [conversations]);
  const busy = useMemo(() => new Set(Object.entries(activity).filter(([, a]) => a.busy).map(([k]) => k)), [activity]);
  const current = selected ? activity[selected.publicKey] : undefined;
  const listWidth = columns >= 100 ? 30 : columns >= 70 ? 24 : 0;
  const paneWidth = columns - listWidth;
  // The panes take the rows they need: the live area stays short so the transcript above stays in view.
  const tall = Math.max(6, rows - 6);
  const needed = trajectory ? trajectoryLines(current?.ticks ?? [], tall - 3).length + 3 : live.length + 5;
  const height = Math.min(Math.max(6, agents.length + 3, needed), trajectory ? tall : Math.max(6, rows - 12));
  const historyError = selected ? historyErrors[selected.publicKey] : undefined;
  const shownActivity = current ?? (historyError ? { ticks: [], notice: { at: 0, text: historyError } } : undefined);

  return (
    <ThemeContext.Provider value={{ color: props.color ?? true }}>
      {selected ? <Transcript key={`${selected.publicKey}:${epoch}`} agent={selected} messages={finished} width={columns} /> : null}
      <Box flexDirection="column" width={columns}>
        {daemon.down ? (
          <DaemonDown home={props.home} width={columns} error={daemon.error} />
        ) : (
          <Box flexDirection="row">
            {listWidth > 0 ? (
              <AgentList agents={agents} selected={selected?.publicKey} unread={unread} busy={busy} focused={pane === 'agents'} width={listWidth} rows={height - 3} />
            ) : null}
            {trajectory ? (
              <TrajectoryView agent={selected} ticks={current?.ticks ?? []} width={paneWidth} height={height} />
            ) : (
              <ChatPane agent={selected} connecting={!daemon.overview} live={live} loaded={conversation.loaded} activity={shownActivity} width={paneWidth} height={height} />
            )}
          </Box>
        )}
        <ApprovalBar approvals={waiting(selected, answered)} width={columns} now={now()} />
        <InputLine value={draft.value} focused={pane === 'input'} agentName={selected?.name} width={columns} />
        <StatusBar down={daemon.down} relays={daemon.overview?.relays} agent={selected} lastTickAt={current?.lastTickAt} width={columns} />
        <KeyHints width={columns} trajectory={trajectory} />
      </Box>
    </ThemeContext.Provider>
  );
}
