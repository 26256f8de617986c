// @jsxRuntime automatic (tsx runs this file in the edge without reading a tsconfig for JSX)
import { useEffect } from "react";
import { resumeSession } from "../api.ts";
import { useSession } from "../session.ts";
import { Form, Link, Outlet, isRouteErrorResponse, useMatches, useNavigation, useRouteError } from "react-router";
import type { RouteHandle } from "../head.ts";
import { strings } from "../strings.ts";

export function Layout() {
  const matches = useMatches();
  const navigation = useNavigation();
  const session = useSession();
  // After hydration: signs back in from the edge's cookie, if there is one (the server renders signed out).
  useEffect(() => {
    void resumeSession();
  }, []);
  // Client-side navigation: the title follows the page (the server wrote the whole head).
  useEffect(() => {
    for (const match of [...matches].reverse()) {
      const handle = match.handle as RouteHandle | undefined;
      if (handle?.head) {
        document.title = handle.head(match.loaderData).title;
        return;
      }
    }
  }, [matches]);
  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <Link to="/" className="brand">{strings.shopName}</Link>
        <Form method="get" action="/search" role="search" className="search">
          <label htmlFor="q" className="visually-hidden">{strings.searchLabel}</label>
          <input id="q" name="q" type="search" placeholder={strings.searchLabel} />
          <button type="submit">{strings.searchButton}</button>
        </Form>
        <nav aria-label="Main">
          {session.kind === "signed-in" ? <Link to="/account">{strings.nav.account}</Link> : <Link to="/sign-in">{strings.nav.signIn}</Link>}
          <Link to="/cart">{strings.nav.cart}</Link>
        </nav>
      </header>
      <main id="main" aria-busy={navigation.state === "loading"}>
        <Outlet />
      </main>
      <footer className="bottom">© {strings.shopName}</footer>
    </>
  );
}

export function ErrorPage() {
  const error = useRouteError();
  const missing = isRouteErrorResponse(error) && error.status === 404;
  return (
    <section>
      <h1>{missing ? strings.notFound : strings.somethingWrong}</h1>
      <p><Link to="/">{strings.backHome}</Link></p>
    </section>
  );
}
