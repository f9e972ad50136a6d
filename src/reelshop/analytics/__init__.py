"""Analytics: the event stream (Parquet), GMV and funnel dashboards, sales targets."""
