-- The value figures (VBP / TS-ROI, step 6 and 11) shown on the board record.
ALTER TABLE board_cards ADD COLUMN value TEXT;
