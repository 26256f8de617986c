// The dashboard: today's orders and revenue, orders waiting to be fulfilled, low-stock SKUs, and
// orders per day over the last week (a bar chart with the same figures as a table for screen
// readers). Counts come from one page of up to 500 orders each (a fuller page is shown as "500+");
// low stock is looked for among the first 500 stock levels, against each SKU's threshold. Figures of a
// service absent from the mesh are left out.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Link } from "react-router";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import type { StaffClient } from "./session.ts";
import { formatMoney, Refusal, useLoad, useStaff } from "./ui.tsx";

const days = 7;
const counted = [OrderStatus.CONFIRMED, OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED];

/** SKUs at or below their low-stock threshold among the first 500 stock levels. */
async function lowStock(staff: StaffClient) {
  const { levels } = await staff.inventory.listStockLevels({ pageSize: 500 });
  const skus = [...new Set(levels.map((l) => l.sku))];
  const batches = Array.from({ length: Math.ceil(skus.length / 100) }, (_, i) => skus.slice(i * 100, i * 100 + 100));
  const totals = (await Promise.all(batches.map((batch) => staff.inventory.batchGetStockLevels({ skus: batch })))).flatMap((r) => r.stocks);
  return totals.filter((t) => t.lowStockThreshold > 0n && t.available <= t.lowStockThreshold);
}

export function DashboardPage() {
  const staff = useStaff();
  const figures = useLoad(async () => {
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    const since = new Date(today.getTime() - (days - 1) * 86_400_000);
    // Figures whose service is absent from the mesh are left out (sections.ts).
    const hasOrders = staff.services.has("orders");
    const [week, waiting, low] = await Promise.all([
      hasOrders ? staff.orders.listOrders({ pageSize: 500, statuses: counted, createdAfter: timestampFromDate(since) }) : undefined,
      hasOrders ? staff.orders.listOrders({ pageSize: 500, statuses: [OrderStatus.CONFIRMED] }) : undefined,
      staff.services.has("inventory") ? lowStock(staff) : undefined,
    ]);
    const perDay = Array.from({ length: days }, (_, i) => ({ day: new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10), orders: 0 }));
    const revenue = new Map<string, bigint>();
    let todayOrders = 0;
    for (const order of week?.orders ?? []) {
      const day = new Date(Number(order.createTime?.seconds ?? 0n) * 1000).toISOString().slice(0, 10);
      const slot = perDay.find((d) => d.day === day);
      if (slot) slot.orders++;
      if (day === perDay[days - 1]!.day) {
        todayOrders++;
        const total = order.totals?.total;
        if (total) revenue.set(total.currencyCode, (revenue.get(total.currencyCode) ?? 0n) + total.amountMinor);
      }
    }
    const more = (page: { nextPageToken: string }) => (page.nextPageToken ? "+" : "");
    const orders = week && waiting ? { perDay, todayOrders: `${todayOrders}${more(week)}`, revenue: [...revenue].map(([currencyCode, amountMinor]) => ({ currencyCode, amountMinor })), waiting: `${waiting.orders.length}${more(waiting)}` } : undefined;
    return { orders, low };
  }, []);
  const data = figures.data?.orders;
  const low = figures.data?.low;
  const highest = Math.max(1, ...(data?.perDay.map((d) => d.orders) ?? [1]));
  return (
    <section>
      <h1>Dashboard</h1>
      <Refusal error={figures.error} />
      {data && (
        <>
          <dl className="tiles">
            <div><dt>Orders today</dt><dd data-testid="orders-today">{data.todayOrders}</dd></div>
            <div><dt>Revenue today</dt><dd>{data.revenue.length ? data.revenue.map((m) => formatMoney({ ...m, $typeName: "bazaar.type.v1.Money" })).join(" + ") : "—"}</dd></div>
            <div><dt>Waiting to be fulfilled</dt><dd><Link to="/orders">{data.waiting}</Link></dd></div>
          </dl>
        </>
      )}
      {low && (
        <>
          <h2>Low stock</h2>
          {low.length === 0 ? <p>No SKU is at or below its threshold.</p> : (
            <ul data-testid="low-stock">
              {low.map((s) => <li key={s.sku}><Link to="/stock">{s.sku}</Link>: {s.available.toString()} available (low at {s.lowStockThreshold.toString()})</li>)}
            </ul>
          )}
        </>
      )}
      {data && (
        <>
          <h2 id="chart-title">Orders per day (UTC)</h2>
          <svg className="chart" viewBox={`0 0 ${days * 40} 120`} role="img" aria-labelledby="chart-title">
            {data.perDay.map((d, i) => {
              const height = Math.round((d.orders / highest) * 90);
              return (
                <g key={d.day}>
                  <rect x={i * 40 + 8} y={100 - height} width={24} height={height} className="bar" />
                  <text x={i * 40 + 20} y={114} textAnchor="middle" className="axis">{d.day.slice(8)}</text>
                  <text x={i * 40 + 20} y={96 - height} textAnchor="middle" className="axis">{d.orders}</text>
                </g>
              );
            })}
          </svg>
          <table className="data visually-hidden">
            <caption>Orders per day</caption>
            <thead><tr><th scope="col">Day</th><th scope="col">Orders</th></tr></thead>
            <tbody>{data.perDay.map((d) => <tr key={d.day}><td>{d.day}</td><td>{d.orders}</td></tr>)}</tbody>
          </table>
        </>
      )}
    </section>
  );
}
