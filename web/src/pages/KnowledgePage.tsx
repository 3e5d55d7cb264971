// The knowledge base: upload documents (many at once, by picking or dropping them, with
// progress), their indexing status live, filtered by name and tags, download and delete; and a search playground (lexical,
// vector or hybrid, top k, the scores, the query's words highlighted).
import { useCallback, useEffect, useRef, useState } from "react";
import type { DragEvent, FormEvent } from "react";
import { DocumentService, KnowledgeBaseService } from "../api/generated";
import type { Document, DocumentStatus, SearchMode, SearchResult } from "../api/generated";
import { useSession } from "../app/session";
import { describeError } from "../lib/errors";
import { atLeast } from "../lib/roles";
import { highlight } from "../lib/highlight";
import { textList } from "../lib/settingsForm";
import { EmptyState, ErrorAlert, Spinner } from "../ui/feedback";

type Load<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

const statusNames: Record<DocumentStatus, string> = {
  DOCUMENT_STATUS_UNSPECIFIED: "—",
  DOCUMENT_STATUS_PROCESSING: "Indexing…",
  DOCUMENT_STATUS_READY: "Ready",
  DOCUMENT_STATUS_FAILED: "Failed",
  DOCUMENT_STATUS_NOT_INDEXED: "Not indexed",
};

interface UploadItem {
  key: string;
  name: string;
  sent: number;
  total: number;
  state: "waiting" | "uploading" | "done" | "failed";
  error?: string;
}

function size(bytes: string | number | undefined): string {
  const n = Number(bytes ?? 0);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function KnowledgePage() {
  const [documents, setDocuments] = useState<Load<Document[]>>({ status: "loading" });
  const [uploads, setUploads] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const [confirming, setConfirming] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  const fileInput = useRef<HTMLInputElement>(null);
  // Builders and above add and delete documents; everyone searches.
  const canEdit = atLeast(useSession().roles, "ROLE_BUILDER");

  // The list's filters, applied when the filter form is sent (not on every keystroke).
  const [filter, setFilter] = useState({ name: "", tags: "" });
  const [applied, setApplied] = useState({ name: "", tags: [] as string[] });
  const load = useCallback(async (quiet = false) => {
    if (!quiet) setDocuments({ status: "loading" });
    try {
      const answer = await DocumentService.listDocuments({
        pageSize: 200,
        ...(applied.name ? { nameContains: applied.name } : {}),
        ...(applied.tags.length > 0 ? { tags: applied.tags } : {}),
      });
      setDocuments({ status: "ready", value: answer.documents ?? [] });
    } catch (error) {
      if (!quiet) setDocuments({ status: "error", message: describeError(error) });
    }
  }, [applied]);

  useEffect(() => {
    void load();
  }, [load]);

  // Indexing status, live: while a document is being indexed, the list is read again every 1.5 s.
  const indexing =
    documents.status === "ready" && documents.value.some((d) => d.status === "DOCUMENT_STATUS_PROCESSING");
  useEffect(() => {
    if (!indexing) return undefined;
    const timer = window.setInterval(() => void load(true), 1500);
    return () => window.clearInterval(timer);
  }, [indexing, load]);

  const uploadAll = async (files: File[]) => {
    if (files.length === 0) return;
    const items = files.map((file, index) => ({
      key: `${Date.now()}-${index}-${file.name}`,
      name: file.name,
      sent: 0,
      total: file.size,
      state: "waiting" as const,
    }));
    setUploads((list) => [...items, ...list]);
    const update = (key: string, change: Partial<UploadItem>) =>
      setUploads((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));
    for (const [index, file] of files.entries()) {
      const key = items[index]!.key;
      update(key, { state: "uploading" });
      try {
        await DocumentService.uploadDocument(
          { name: file.name, ...(file.type ? { contentType: file.type } : {}) },
          file,
          { onUploadProgress: (sent, total) => update(key, { sent, total }) },
        );
        update(key, { state: "done", sent: file.size });
      } catch (error) {
        update(key, { state: "failed", error: describeError(error) });
      }
      void load(true);
    }
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    void uploadAll(Array.from(event.dataTransfer.files));
  };

  const remove = async (id: string) => {
    setConfirming(undefined);
    setActionError(undefined);
    try {
      await DocumentService.deleteDocument({ documentId: id });
      setDocuments((list) =>
        list.status === "ready" ? { status: "ready", value: list.value.filter((d) => d.id !== id) } : list,
      );
    } catch (error) {
      setActionError(describeError(error));
    }
  };

  return (
    <div className="page">
      <div className="page__head">
        <h1>Knowledge base</h1>
      </div>
      {!canEdit && (
        <p className="status-line" data-testid="kb-read-only">
          Builders and above add and delete documents; you can search them below.
        </p>
      )}
      {canEdit && (
        <div
          className="dropzone"
          data-dragging={dragging}
          onDragOver={(e) => (e.preventDefault(), setDragging(true))}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>Drop files here to add them to the knowledge base, or</p>
          <label className="button" htmlFor="kb-files">
            Choose files
          </label>
          <input
            id="kb-files"
            ref={fileInput}
            className="visually-hidden"
            type="file"
            multiple
            onChange={(e) => {
              void uploadAll(Array.from(e.target.files ?? []));
              if (fileInput.current) fileInput.current.value = "";
            }}
            data-testid="kb-upload"
          />
        </div>
      )}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((item) => (
            <li key={item.key} data-state={item.state}>
              <span className="uploads__name">{item.name}</span>
              <progress max={item.total || 1} value={item.sent} aria-label={`Upload of ${item.name}`} />
              <span className="status-line">
                {item.state === "failed"
                  ? item.error
                  : item.state === "done"
                    ? "Uploaded"
                    : item.state === "waiting"
                      ? "Waiting"
                      : `${size(item.sent)} of ${size(item.total)}`}
              </span>
            </li>
          ))}
        </ul>
      )}
      {actionError && <ErrorAlert message={actionError} />}
      <form
        className="playground__form"
        aria-label="Filter the documents"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ name: filter.name.trim(), tags: textList(filter.tags) });
        }}
        data-testid="documents-filter"
      >
        <div className="field">
          <label htmlFor="documents-name">Name contains</label>
          <input
            id="documents-name"
            className="input"
            value={filter.name}
            onChange={(e) => setFilter((f) => ({ ...f, name: e.target.value }))}
            data-testid="documents-name"
          />
        </div>
        <div className="field">
          <label htmlFor="documents-tags">With all the tags (comma-separated)</label>
          <input
            id="documents-tags"
            className="input"
            value={filter.tags}
            onChange={(e) => setFilter((f) => ({ ...f, tags: e.target.value }))}
            data-testid="documents-tags"
          />
        </div>
        <button type="submit" className="button" data-testid="documents-filter-apply">
          Filter
        </button>
      </form>
      {documents.status === "loading" && <Spinner label="Loading documents…" />}
      {documents.status === "error" && <ErrorAlert message={documents.message} onRetry={() => void load()} />}
      {documents.status === "ready" && documents.value.length === 0 && (
        <EmptyState title={applied.name || applied.tags.length > 0 ? "No documents match" : "No documents yet"}>
          <p>
            {applied.name || applied.tags.length > 0
              ? "None has this name and these tags."
              : "Add documents above: agents search them to answer questions."}
          </p>
        </EmptyState>
      )}
      {documents.status === "ready" && documents.value.length > 0 && (
        <table className="table" data-testid="documents">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col" className="table__wide">
                Chunks
              </th>
              <th scope="col" className="table__wide">
                Size
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {documents.value.map((document) => (
              <tr key={document.id} data-testid="document" data-name={document.name}>
                <td>{document.name}</td>
                <td>
                  <span className="badge" data-status={document.status} data-testid="document-status">
                    {statusNames[document.status ?? "DOCUMENT_STATUS_UNSPECIFIED"]}
                  </span>
                  {document.status === "DOCUMENT_STATUS_FAILED" && document.statusMessage && (
                    <div className="status-line">{document.statusMessage}</div>
                  )}
                </td>
                <td className="table__wide">{document.chunkCount ?? 0}</td>
                <td className="table__wide">{size(document.sizeBytes)}</td>
                <td>
                  <div className="actions">
                    <a
                      className="button button--small button--ghost"
                      href={DocumentService.downloadDocument({ documentId: document.id ?? "" })}
                      download
                    >
                      Download
                    </a>
                    {!canEdit ? null : confirming === document.id ? (
                      <button
                        type="button"
                        className="button button--small button--danger"
                        onClick={() => void remove(document.id ?? "")}
                        data-testid="document-confirm-delete"
                      >
                        Delete for good
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="button button--small"
                        onClick={() => setConfirming(document.id)}
                        data-testid="document-delete"
                      >
                        Delete
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <SearchPlayground />
    </div>
  );
}

function SearchPlayground() {
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<SearchMode>("SEARCH_MODE_HYBRID");
  const [topK, setTopK] = useState(5);
  const [results, setResults] = useState<Load<{ query: string; hits: SearchResult[] }>>();

  const search = async (event: FormEvent) => {
    event.preventDefault();
    const text = query.trim();
    if (!text) return;
    setResults({ status: "loading" });
    try {
      const answer = await KnowledgeBaseService.search({ query: text, mode, topK });
      setResults({ status: "ready", value: { query: text, hits: answer.results ?? [] } });
    } catch (error) {
      setResults({ status: "error", message: describeError(error) });
    }
  };

  return (
    <section aria-labelledby="search-heading" className="playground">
      <h2 id="search-heading">Search playground</h2>
      <form className="playground__form" onSubmit={(e) => void search(e)}>
        <div className="field playground__query">
          <label htmlFor="kb-query">Query</label>
          <input
            id="kb-query"
            className="input"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            data-testid="kb-query"
          />
        </div>
        <div className="field">
          <label htmlFor="kb-mode">Mode</label>
          <select
            id="kb-mode"
            className="select"
            value={mode}
            onChange={(e) => setMode(e.target.value as SearchMode)}
            data-testid="kb-mode"
          >
            <option value="SEARCH_MODE_LEXICAL">Lexical</option>
            <option value="SEARCH_MODE_VECTOR">Vector</option>
            <option value="SEARCH_MODE_HYBRID">Hybrid</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="kb-topk">Top k</label>
          <input
            id="kb-topk"
            className="input"
            type="number"
            min={1}
            max={50}
            value={topK}
            onChange={(e) => setTopK(Math.max(1, Math.min(50, Number(e.target.value) || 1)))}
          />
        </div>
        <button type="submit" className="button button--primary" disabled={!query.trim()} data-testid="kb-search">
          Search
        </button>
      </form>
      {results?.status === "loading" && <Spinner label="Searching…" />}
      {results?.status === "error" && <ErrorAlert message={results.message} />}
      {results?.status === "ready" && results.value.hits.length === 0 && (
        <EmptyState title="Nothing found">
          <p>No chunk matches this query in this mode.</p>
        </EmptyState>
      )}
      {results?.status === "ready" && results.value.hits.length > 0 && (
        <ol className="hits" data-testid="kb-results">
          {results.value.hits.map((hit) => (
            <li key={`${hit.documentId}/${hit.chunkId}`} data-testid="kb-result">
              <div className="timeline__head">
                <span className="sources__title">
                  {hit.title}
                  {(hit.headingPath ?? []).length > 0 && <> › {(hit.headingPath ?? []).join(" › ")}</>}
                </span>
                <span className="sources__meta">score {(hit.score ?? 0).toFixed(3)}</span>
              </div>
              <p className="sources__text">
                {highlight(hit.text ?? "", results.value.query).map((part, index) =>
                  part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
                )}
              </p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
