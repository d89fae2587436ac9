# Fail closed (see README.Debian): put dot in front of dns or resolve,
# whichever comes first, and end the lookup there unless dot succeeded.
hosts before=dns,resolve dot [!SUCCESS=return]
# A hosts line with neither: append dot at the end.
hosts last dot [!SUCCESS=return] skip-if-present=dot,dns,resolve
