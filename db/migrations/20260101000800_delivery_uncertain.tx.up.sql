-- A send whose outcome we never learnt (the provider may have the message: a
-- timeout or a cut connection after the request, or our process died mid-call) must
-- not be sent again blindly. `uncertain` is set when a delivery is claimed (an
-- attempt starts) and cleared only when an attempt ends with an outcome that proves
-- the provider does not have the message; the next claim of an uncertain delivery
-- first looks the message up at the provider. `first_attempt_at` bounds that
-- look-up to the provider's messages created since the first attempt.
ALTER TABLE deliveries
    ADD COLUMN IF NOT EXISTS uncertain boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS first_attempt_at timestamptz;
