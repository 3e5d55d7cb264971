// Lists read page by page: the first page when the query changes, the next on "More", an answer
// to an older query dropped (a filter changed while it was on its way).
import { useCallback, useEffect, useRef, useState } from "react";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

/** One page of a list: its items and the next page's token (none: the last page). */
export interface Page<T> {
  items: T[];
  next: string | undefined;
}

/**
 * The pages of a list read so far. `fetchPage` (memoized: a new one means a new query) reads one
 * page; `describe` turns its failure into a sentence.
 */
export function usePagedList<T>(
  fetchPage: (pageToken: string | undefined) => Promise<Page<T>>,
  describe: (failure: unknown) => string,
): { state: Load<T[]>; hasMore: boolean; loadMore: () => void; reload: () => void; refresh: () => void } {
  const [state, setState] = useState<Load<T[]>>({ status: "loading" });
  const [next, setNext] = useState<string>();
  const query = useRef(0);

  // The first page again: `quiet` keeps what is shown until it arrives (a refresh after a change).
  const read = useCallback(
    (quiet: boolean) => {
      const asked = ++query.current;
      if (!quiet) setState({ status: "loading" });
      fetchPage(undefined).then(
      (page) => {
        if (asked !== query.current) return;
        setState({ status: "ready", value: page.items });
        setNext(page.next || undefined);
      },
      (failure: unknown) => {
        if (asked === query.current) setState({ status: "error", message: describe(failure) });
      },
    );
    },
    [fetchPage, describe],
  );
  const reload = useCallback(() => read(false), [read]);
  const refresh = useCallback(() => read(true), [read]);

  const loadMore = useCallback(() => {
    if (!next) return;
    const asked = query.current;
    fetchPage(next).then(
      (page) => {
        if (asked !== query.current) return;
        setState((current) => ({
          status: "ready",
          value: current.status === "ready" ? [...current.value, ...page.items] : page.items,
        }));
        setNext(page.next || undefined);
      },
      (failure: unknown) => {
        if (asked === query.current) setState({ status: "error", message: describe(failure) });
      },
    );
  }, [fetchPage, describe, next]);

  useEffect(() => {
    reload();
  }, [reload]);

  return { state, hasMore: next !== undefined, loadMore, reload, refresh };
}

/** The "More" button under a paged list. */
export function MoreButton(props: { shown: boolean; onClick: () => void; label: string; testId: string }) {
  if (!props.shown) return null;
  return (
    <button type="button" className="button button--small list-more" onClick={props.onClick} data-testid={props.testId}>
      {props.label}
    </button>
  );
}
