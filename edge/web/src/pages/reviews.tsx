// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// A product's reviews: the rating summary and the newest reviews (server-rendered from the product
// page's loader), more on demand (ListReviews' keyset pages), and — for a signed-in shopper who has
// not reviewed it — the form to write one (a chunk of its own: the first page does not carry it).
import { lazy, Suspense, useState } from "react";
import { Link } from "react-router";
import { api } from "../api.ts";
import { useSession } from "../session.ts";
import { strings } from "../strings.ts";
import { reviewView, type ReviewsView, type ReviewView } from "../views.ts";
import { refusalMessage } from "./refusals.ts";

const t = strings.reviews;
const ReviewForm = lazy(() => import("./review-form.tsx"));

export interface RatingView {
  average: number;
  count: number;
}

/** Filled and empty stars, read out as "4 out of 5 stars". */
export function Stars({ rating }: { rating: number }) {
  const whole = Math.round(rating);
  return <span role="img" aria-label={t.stars(Number(rating.toFixed(1)))} className="stars">{"★".repeat(whole)}{"☆".repeat(5 - whole)}</span>;
}

/** The same date on the server and in the browser (hydration), whatever their time zones. */
const day = (iso: string) => (iso ? new Date(iso).toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" }) : "");

export const reviewsPageSize = 10;

export function Reviews(props: { productId: string; slug: string; rating: RatingView | undefined; onRated: (rating: RatingView) => void; initial: ReviewsView | undefined }) {
  const session = useSession();
  const [reviews, setReviews] = useState<ReviewView[]>(props.initial?.items ?? []);
  const [next, setNext] = useState(props.initial?.nextPageToken ?? "");
  const [more, setMore] = useState<{ kind: "idle" | "loading" } | { kind: "error"; message: string }>({ kind: "idle" });
  const [postedId, setPostedId] = useState("");
  const mine = session.kind === "signed-in" && reviews.some((r) => r.userId === session.userId);

  async function loadMore() {
    setMore({ kind: "loading" });
    try {
      const page = await api().catalog.listReviews({ productId: props.productId, pageSize: reviewsPageSize, pageToken: next });
      setReviews((shown) => [...shown, ...page.reviews.map(reviewView).filter((r) => !shown.some((s) => s.id === r.id))]);
      setNext(page.nextPageToken);
      setMore({ kind: "idle" });
    } catch (error) {
      setMore({ kind: "error", message: refusalMessage(error) });
    }
  }

  return (
    <section className="reviews" aria-labelledby="reviews-title">
      <h2 id="reviews-title">{t.title}</h2>
      <p data-testid="rating-summary">
        {props.rating && props.rating.count > 0 ? <><Stars rating={props.rating.average} /> {t.summary(props.rating.average, props.rating.count)}</> : t.none}
      </p>
      {session.kind === "signed-out" && <p><Link to={`/sign-in?next=${encodeURIComponent(`/p/${props.slug}`)}`}>{t.signInToWrite}</Link></p>}
      {session.kind === "signed-in" && postedId && <p role="status" className="notice">{t.posted}</p>}
      {session.kind === "signed-in" && mine && !postedId && <p>{t.yours}</p>}
      {session.kind === "signed-in" && !mine && (
        <Suspense fallback={<p role="status">{strings.loading}</p>}>
          <ReviewForm
            productId={props.productId}
            onPosted={(review, rating) => {
              setReviews((shown) => [review, ...shown]);
              setPostedId(review.id);
              props.onRated(rating);
            }}
          />
        </Suspense>
      )}
      {!props.initial && <p className="error" role="alert">{t.loadFailed}</p>}
      <ol className="review-list">
        {reviews.map((r) => (
          <li key={r.id} data-testid="review">
            <p><Stars rating={r.rating} /> {r.title && <strong>{r.title}</strong>}</p>
            {r.body && <p>{r.body}</p>}
            <p className="review-meta">{day(r.created)}{r.verifiedPurchase && ` · ${t.verified}`}</p>
          </li>
        ))}
      </ol>
      {next && (
        <button type="button" onClick={() => void loadMore()} disabled={more.kind === "loading"}>
          {more.kind === "loading" ? strings.loading : t.more}
        </button>
      )}
      <div role="alert">{more.kind === "error" && <p className="error">{more.message}</p>}</div>
    </section>
  );
}
