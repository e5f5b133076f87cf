// The tokens qemu's JSON lexer hands to its parser: shared by the stream reader and the parser.

export enum T {
  LCurly,
  RCurly,
  LSquare,
  RSquare,
  Colon,
  Comma,
  Integer,
  Float,
  Keyword,
  String,
}

export interface Token {
  type: T;
  text: Buffer;
}
