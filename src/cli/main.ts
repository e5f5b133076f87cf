// PLACEHOLDER: the guestlink CLI.
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('guestlink: not implemented yet\n');
  return 2;
}
