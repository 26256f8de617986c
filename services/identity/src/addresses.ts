// Postal addresses of a user and their RPCs: validated fields (ISO 3166-1 country, postal code present,
// lengths bounded), at most one default for shipping and one for billing (unique indexes say so).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { uuidv7 } from "uuidv7";
import {
  checkPostalAddressField,
  checkUpdateMask,
  checkUuid,
  ConflictError,
  isUuid,
  NotFoundError,
  postalAddressPaths,
  ResourceExhaustedError,
  violations,
  type Database,
  type EntityManager,
  type PostalAddressPath,
} from "@bazaar/platform";
import type { ServiceImpl } from "@connectrpc/connect";
import { AddressSchema, type Address, type IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { loadReachableUser } from "./users.ts";

export const MAX_ADDRESSES_PER_USER = 20;

interface AddressRow {
  id: string;
  user_id: string;
  recipient_name: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postal_code: string;
  country_code: string;
  phone: string;
  default_shipping: boolean;
  default_billing: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

// An Address's fields are those of bazaar.type.v1.PostalAddress (the same rules) plus its default flags.
export const editableAddressPaths: readonly string[] = [...postalAddressPaths, "default_shipping", "default_billing"];

function toAddress(row: AddressRow): Address {
  return create(AddressSchema, {
    id: row.id,
    userId: row.user_id,
    recipientName: row.recipient_name,
    line1: row.line1,
    line2: row.line2,
    city: row.city,
    region: row.region,
    postalCode: row.postal_code,
    countryCode: row.country_code,
    phone: row.phone,
    defaultShipping: row.default_shipping,
    defaultBilling: row.default_billing,
    createTime: timestampFromDate(new Date(row.created_at)),
    updateTime: timestampFromDate(new Date(row.updated_at)),
    etag: String(row.version),
  });
}

/** Validates the `paths` of `address` (all editable fields when creating) and returns column → value. */
function columnsOf(address: Address | undefined, paths: readonly string[], prefix: string): Record<string, string | boolean> {
  const v = violations();
  if (!address) {
    v.add(prefix, "is required");
    v.throwIfAny();
  }
  const a = address!;
  const columns: Record<string, string | boolean> = {};
  for (const path of paths) {
    if (path === "default_shipping") columns[path] = a.defaultShipping;
    else if (path === "default_billing") columns[path] = a.defaultBilling;
    else if ((postalAddressPaths as readonly string[]).includes(path)) {
      const value = checkPostalAddressField(v, prefix, path as PostalAddressPath, a);
      if (value !== undefined) columns[path] = value;
    }
  }
  v.throwIfAny();
  return columns;
}

async function clearDefaults(em: EntityManager, userId: string, columns: Record<string, unknown>, exceptId: string) {
  for (const flag of ["default_shipping", "default_billing"] as const) {
    if (columns[flag] === true) await em.execute(`update addresses set ${flag} = false where user_id = ? and id <> ? and ${flag}`, [userId, exceptId], "run");
  }
}

export interface AddressHandlerDeps {
  database: Database;
}

export function addressHandlers(
  deps: AddressHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "createAddress" | "listAddresses" | "updateAddress" | "deleteAddress"> {
  const { database } = deps;
  return {
    async createAddress(req) {
      const { userId, address } = req;
      const v = violations();
      checkUuid(v, "user_id", userId);
      v.throwIfAny();
      const columns = columnsOf(address, editableAddressPaths, "address");
      return database.transaction(async (em) => {
        await loadReachableUser(em, userId, true);
        const [{ count } = { count: 0 }] = await em.execute<Array<{ count: number }>>("select count(*)::int as count from addresses where user_id = ?", [userId]);
        if (count >= MAX_ADDRESSES_PER_USER) {
          throw new ResourceExhaustedError(`at most ${MAX_ADDRESSES_PER_USER} addresses per user`, { reason: "ADDRESS_LIMIT" });
        }
        if (count === 0) {
          columns.default_shipping = true;
          columns.default_billing = true;
        }
        const id = uuidv7();
        await clearDefaults(em, userId, columns, id);
        const names = Object.keys(columns);
        const [row] = await em.execute<AddressRow[]>(
          `insert into addresses (id, user_id, ${names.join(", ")}) values (?, ?, ${names.map(() => "?").join(", ")}) returning *`,
          [id, userId, ...Object.values(columns)],
        );
        return { address: toAddress(row!) };
      });
    },

    async listAddresses(req) {
      const { userId } = req;
      const v = violations();
      checkUuid(v, "user_id", userId);
      v.throwIfAny();
      const em = database.em();
      await loadReachableUser(em, userId);
      const rows = await em.execute<AddressRow[]>("select * from addresses where user_id = ? order by created_at, id limit ?", [userId, MAX_ADDRESSES_PER_USER]);
      return { addresses: rows.map(toAddress) };
    },

    async updateAddress(req) {
      const { address } = req;
      const paths = req.updateMask?.paths ?? [];
      const v = violations();
      if (!address) v.add("address", "is required");
      else {
        checkUuid(v, "address.id", address.id);
        checkUuid(v, "address.user_id", address.userId);
      }
      const mask = checkUpdateMask(v, paths, editableAddressPaths);
      v.check(!address || address.etag === "" || /^[0-9]{1,10}$/.test(address.etag), "address.etag", "is not an etag of this API");
      v.throwIfAny();
      const columns = columnsOf(address, mask, "address");
      const { id, userId, etag } = address!;
      return database.transaction(async (em) => {
        await loadReachableUser(em, userId, true);
        const [existing] = await em.execute<AddressRow[]>("select * from addresses where id = ? and user_id = ? for update", [id, userId]);
        if (!existing) throw new NotFoundError(`address ${id} not found`, { reason: "ADDRESS_NOT_FOUND" });
        if (etag !== "" && etag !== String(existing.version)) {
          throw new ConflictError("the address changed since it was read (etag mismatch); read it again", { reason: "ETAG_MISMATCH" });
        }
        await clearDefaults(em, userId, columns, id);
        const names = Object.keys(columns);
        const [row] = await em.execute<AddressRow[]>(
          `update addresses set ${names.map((n) => `${n} = ?`).join(", ")}, version = version + 1, updated_at = now() where id = ? returning *`,
          [...Object.values(columns), id],
        );
        return { address: toAddress(row!) };
      });
    },

    async deleteAddress(req) {
      const { userId, addressId } = req;
      const v = violations();
      checkUuid(v, "user_id", userId);
      checkUuid(v, "address_id", addressId);
      v.throwIfAny();
      await database.transaction(async (em) => {
        await loadReachableUser(em, userId, true);
        const deleted = await em.execute<AddressRow[]>("delete from addresses where id = ? and user_id = ? returning id", [addressId, userId]);
        if (deleted.length === 0 && isUuid(addressId)) throw new NotFoundError(`address ${addressId} not found`, { reason: "ADDRESS_NOT_FOUND" });
      });
      return {};
    },
  };
}
