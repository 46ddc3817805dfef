// -m comment (libxt_comment): free text up to 255 bytes; no effect on matching (it goes to Rule.comment).
import { bad, noDuplicates, noInvert, type Extension } from '../ext.js';
import { saveString } from '../lexer.js';

export interface CommentData {
  comment: string;
}

export const comment: Extension<CommentData> = {
  kind: 'match',
  name: 'comment',
  options: { comment: 1 },
  parse(opts, ctx) {
    if (!noDuplicates(opts, ctx)) return undefined;
    const o = opts[0];
    if (!o) {
      ctx.problems.error('MISSING_OPTION', '-m comment needs --comment TEXT', ctx.line, 1);
      return undefined;
    }
    if (!noInvert(o, ctx)) return undefined;
    if (Buffer.byteLength(o.args[0]) > 255) return bad(ctx, o, 'INVALID_VALUE', 'a comment holds at most 255 bytes');
    return { comment: o.args[0] };
  },
  save: (d) => ` --comment ${saveString(d.comment)}`,
  exprs: () => [],
};
