// guestlink completion bash: a completion script generated from the verb table, the option tables (the
// CLI's, with each option's verbs, and the tables of the verbs that parse their own options) and the QGA
// command table, so it never lists a verb, option, option value or command that does not exist, and offers
// each verb only the options it takes. zsh can load it through bashcompinit (documented in docs/cli.md).
import { ADDRESS_SCHEMES } from '../../host/connectors/addresses.js';
import { COMMAND_NAMES } from '../../protocol/qga/commands.js';
import { completionWords, flagOf, inScope, type SettingSpec } from '../../settings/index.js';
import { UsageError } from '../args.js';
import { CLI_OPTIONS } from '../options.js';
import { RAW_VERBS } from './raw.js';
import type { StandaloneVerb } from './types.js';

/** What completes after a scheme, for the schemes where there is something to offer (others: nothing). */
const AFTER_SCHEME: Readonly<Record<string, string>> = {
  'unix:': `compopt -o nospace; COMPREPLY=($(compgen -f -- "\${cur#unix:}" | sed 's/^/unix:/'))`,
  'libvirt:': `COMPREPLY=($(compgen -P libvirt: -W "$(virsh \${connect:+-c "$connect"} list --name 2>/dev/null)" -- "\${cur#libvirt:}"))`,
};

/** The bash `case "$cur"` arms for VM addresses, from the address table (host/connectors/addresses.ts). */
function addressCases(): string {
  const arms = ADDRESS_SCHEMES.filter((scheme) => AFTER_SCHEME[scheme]).map((scheme) => `    ${scheme}*) ${AFTER_SCHEME[scheme]} ;;`);
  return [
    ...arms,
    `    *) compopt -o nospace; COMPREPLY=($(compgen -W "${ADDRESS_SCHEMES.join(' ')}" -- "$cur")); compopt -o default ;;`,
  ].join('\n');
}

/** One table per completion scope: a main verb, a raw verb, or a raw verb's subcommand ("talos/schematic"). */
interface Scope {
  /** The bash case pattern of the scope. */
  pattern: string;
  /** The options offered after `-`. */
  offered: readonly SettingSpec[];
  /** The options parsed in the scope (what takes a value, its choices). */
  parsed: readonly SettingSpec[];
}

/** The tables merged, the first of a flag kept (cloud-init's and cloud-init --talos's share --hostname). */
function union(tables: readonly (readonly SettingSpec[])[]): SettingSpec[] {
  const seen = new Set<string>();
  return tables.flat().filter((s) => !seen.has(flagOf(s)) && seen.add(flagOf(s)));
}

/** Every completion scope: raw verbs (and their subcommands) first, the CLI's verbs after, no verb yet last. */
export function completionScopes(mainVerbs: readonly string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const [name, raw] of Object.entries(RAW_VERBS)) {
    if (raw.subcommands) {
      for (const sub of raw.subcommands) {
        const table = raw.tables[sub] ?? [];
        scopes.push({ pattern: `${name}/${sub}`, offered: table, parsed: table });
      }
      scopes.push({ pattern: name, offered: [], parsed: [] });
    } else {
      const table = union(Object.values(raw.tables));
      scopes.push({ pattern: name, offered: table, parsed: table });
    }
  }
  for (const verb of mainVerbs) scopes.push({ pattern: verb, offered: inScope(CLI_OPTIONS, verb), parsed: CLI_OPTIONS });
  scopes.push({ pattern: '*', offered: inScope(CLI_OPTIONS, ''), parsed: CLI_OPTIONS });
  return scopes;
}

/** `case "$1" in` arms; scopes with the same body share an arm; an empty body is `return 1` (no fall-through to `*`). */
function arms(scopes: readonly Scope[], body: (s: Scope) => string): string {
  const byBody = new Map<string, string[]>();
  for (const s of scopes) {
    const b = body(s) || '      return 1';
    byBody.set(b, [...(byBody.get(b) ?? []), s.pattern]);
  }
  // `*` must stay last: it is the catch-all.
  return [...byBody]
    .sort(([, a], [, b]) => Number(a.includes('*')) - Number(b.includes('*')))
    .map(([b, patterns]) => `    ${patterns.join('|')})\n${b}\n      ;;`)
    .join('\n');
}

function valueArms(s: Scope): string {
  const w = completionWords(s.parsed);
  const files = w.files.filter((f) => !w.choices.some(([names]) => names.split('|').includes(f)));
  const lines = [
    ...w.choices.map(([names, choices]) => `        ${names}) COMPREPLY=($(compgen -W "${choices.join(' ')}" -- "$3")); return 0 ;;`),
    ...(files.length ? [`        ${files.join('|')}) compopt -o default 2>/dev/null; COMPREPLY=(); return 0 ;;`] : []),
    ...(w.valued.length ? [`        ${w.valued.join('|')}) COMPREPLY=(); return 0 ;;`] : []),
  ];
  return lines.length ? `      case "$2" in\n${lines.join('\n')}\n      esac` : '';
}

/** The completion script for bash, from the verb, option, address and QGA command tables. */
export function bashCompletion(mainVerbs: readonly string[]): string {
  const scopes = completionScopes(mainVerbs);
  const valued = (s: Scope) => {
    const v = completionWords(s.parsed).valued;
    return v.length ? `      case "$2" in ${v.join('|')}) return 0 ;; esac` : '';
  };
  const flags = (s: Scope) => `      echo "${[...new Set(completionWords(s.offered).flags)].join(' ')}"`;
  const withSubs = Object.entries(RAW_VERBS).filter(([, r]) => r.subcommands);
  const verbs = [...mainVerbs, ...Object.keys(RAW_VERBS)];
  return `# bash completion for guestlink (generated by \`guestlink completion bash\`)
# install: guestlink completion bash > /etc/bash_completion.d/guestlink   (or: source <(guestlink completion bash))

# Whether option $2 takes a value in scope $1 (then the next word is that value).
_guestlink_valued() {
  case "$1" in
${arms(scopes, valued)}
  esac
  return 1
}

# Completes the value of option $2 in scope $1 (the word being typed is $3); fails when $2 takes none.
_guestlink_value() {
  case "$1" in
${arms(scopes, valueArms)}
  esac
  return 1
}

# The options of scope $1.
_guestlink_flags() {
  case "$1" in
${arms(scopes, flags)}
  esac
}

_guestlink() {
  local cur prev verb="" sub="" scope="" i word npos=0 connect=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      --) return ;;
      -*)
        [[ "$word" == --connect || "$word" == -c ]] && [[ -z "$scope" || "$scope" == "$verb" ]] && connect="\${COMP_WORDS[i+1]}"
        if [[ "$word" != *=* ]] && _guestlink_valued "\${scope:-*}" "$word"; then ((i++)); fi ;;
      *)
        if [[ -z "$verb" ]]; then verb="$word"; scope="$verb"
${withSubs.map(([name]) => `        elif [[ "$verb" == ${name} && -z "$sub" ]]; then sub="$word"; scope="${name}/$sub"`).join('\n')}
        else ((npos++)); fi ;;
    esac
  done
  if [[ "$prev" != *=* ]] && _guestlink_value "\${scope:-*}" "$prev" "$cur"; then return; fi
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$(_guestlink_flags "\${scope:-*}")" -- "$cur")); return; fi
  if [[ -z "$verb" ]]; then COMPREPLY=($(compgen -W "${verbs.join(' ')}" -- "$cur")); return; fi
  case "$verb" in
    completion) COMPREPLY=($(compgen -W "bash" -- "$cur")); return ;;
${withSubs.map(([name, r]) => `    ${name}) [[ -z "$sub" ]] && COMPREPLY=($(compgen -W "${r.subcommands?.join(' ')}" -- "$cur")); return ;;`).join('\n')}
    ${[...Object.keys(RAW_VERBS).filter((n) => !RAW_VERBS[n]?.subcommands), 'commands', 'help'].join('|')}) return ;;
    call) if ((npos >= 1)) && [[ "$cur" != *:* ]]; then COMPREPLY=($(compgen -W "${COMMAND_NAMES.join(' ')}" -- "$cur")); return; fi ;;
  esac
  case "$cur" in
${addressCases()}
  esac
}
complete -F _guestlink guestlink
`;
}

/** The `completion` verb; the verb names come late (the verb table includes this verb). */
export function completionVerb(verbNames: () => readonly string[]): StandaloneVerb {
  return {
    kind: 'standalone',
    name: 'completion',
    usage: 'completion bash',
    summary: 'print a shell completion script',
    async run(ctx) {
      const [shell] = ctx.args;
      if (shell !== 'bash') throw new UsageError('completion supports: bash (zsh: autoload bashcompinit && bashcompinit, then source it)');
      ctx.io.stdout.write(bashCompletion(verbNames()));
      return 0;
    },
  };
}
