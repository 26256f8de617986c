// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/**
 * A deleted account's parcels still on their way keep the address until delivered: the flag marks
 * them, and the database anonymises the address (only the country stays) as the status becomes
 * delivered or cancelled, whichever code path writes it.
 */
export class ShippingPersonalData extends Migration {
  override name = "shipping_0003_personal_data";
  override up(): void {
    this.addSql("alter table shipment add column erase_address_when_delivered boolean not null default false");
    this.addSql(`create function shipment_erase_address() returns trigger language plpgsql as $$
begin
  new.address := jsonb_build_object('recipientName', '', 'line1', '', 'line2', '', 'city', '', 'region', '', 'postalCode', '', 'phone', '',
    'countryCode', coalesce(new.address ->> 'countryCode', ''));
  new.erase_address_when_delivered := false;
  return new;
end $$`);
    this.addSql(`create trigger shipment_erase_address_when_delivered before update on shipment for each row
      when (new.erase_address_when_delivered and new.status in ('delivered', 'cancelled')) execute function shipment_erase_address()`);
  }
}
