"""Privacy rights: every domain's part of a person's data export and account deletion,
and the retention rules that forget what nobody needs any more."""
