/**
 * IAM glob matching over the whole text: `*` matches any run of characters (including none), `?`
 * exactly one. Written as a two-pointer scan rather than a RegExp so hostile patterns such as
 * `*a*a*a*a*b` cannot cause catastrophic backtracking.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  // Code points, so `?` matches one character even outside the Basic Multilingual Plane.
  const pat = Array.from(pattern);
  const txt = Array.from(text);
  let p = 0;
  let t = 0;
  let lastStar = -1;
  let textAtLastStar = 0;
  while (t < txt.length) {
    if (pat[p] === '*') {
      lastStar = p++;
      textAtLastStar = t;
    } else if (p < pat.length && (pat[p] === '?' || pat[p] === txt[t])) {
      p++;
      t++;
    } else if (lastStar !== -1) {
      // Let the last `*` swallow one more character and retry from there.
      p = lastStar + 1;
      t = ++textAtLastStar;
    } else {
      return false;
    }
  }
  while (pat[p] === '*') p++;
  return p === pat.length;
}
