// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
// Writing a review (CreateReview; signed in): rating, title and text. Refusals in words — the API's
// per-field violations on their fields, "already reviewed" as a sentence. A chunk of its own.
import { useState, type FormEvent } from "react";
import { strings } from "../strings.ts";
import { api } from "../api.ts";
import { reviewView, type ReviewView } from "../views.ts";
import { Field, TextArea } from "./field.tsx";
import { fieldErrors, formMessage } from "./refusals.ts";
import type { RatingView } from "./reviews.tsx";

const t = strings.reviews;
const fields = ["rating", "title", "body"] as const;

export default function ReviewForm({ productId, onPosted }: { productId: string; onPosted: (review: ReviewView, rating: RatingView) => void }) {
  const [rating, setRating] = useState(0);
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (rating < 1) {
      setErrors({ rating: t.chooseRating });
      setMessage("");
      return;
    }
    setBusy(true);
    try {
      const answer = await api().catalog.createReview({ productId, rating, title, body });
      if (!answer.review) throw new Error("web: CreateReview answered no review");
      onPosted(reviewView(answer.review), { average: answer.productRating?.average ?? rating, count: answer.productRating?.count ?? 1 });
    } catch (error) {
      const onFields = fieldErrors(error, fields);
      setErrors(onFields);
      setMessage(formMessage(error, onFields));
      setBusy(false);
    }
  }

  return (
    <form className="stacked review-form" onSubmit={(e) => void submit(e)} noValidate>
      <h3>{t.write}</h3>
      <fieldset aria-describedby={errors.rating ? "rating-error" : undefined}>
        <legend>{t.rating}</legend>
        {[1, 2, 3, 4, 5].map((n) => (
          <label key={n} className="variant">
            <input type="radio" name="rating" value={n} checked={rating === n} onChange={() => setRating(n)} />
            {t.ratingOption(n)}
          </label>
        ))}
        {errors.rating && <span id="rating-error" className="error field-error">{errors.rating}</span>}
      </fieldset>
      <Field id="review-title" label={t.reviewTitle} value={title} onChange={(e) => setTitle(e.target.value)} error={errors.title} />
      <TextArea id="review-body" label={t.body} rows={5} maxLength={5000} value={body} onChange={(e) => setBody(e.target.value)} error={errors.body} />
      <div role="alert">{message && <p className="error">{message}</p>}</div>
      <button type="submit" disabled={busy}>{busy ? t.posting : t.submit}</button>
    </form>
  );
}
