"""Scopes: the function, method or class around changed lines, or a window of lines."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.review.scopes import Scope, enclosing, language_of


def code(source: str) -> str:
    """A sample file: dedented, without the newline after the opening quotes."""
    return textwrap.dedent(source).removeprefix("\n")


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the first line holding needle."""
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the sample")


CART_PY = code(
    '''
    import math


    class Cart:
        """Items a shopper is about to buy."""

        def __init__(self, items):
            self.items = list(items)

        def total(self):
            subtotal = sum(item.price for item in self.items)
            return math.floor(subtotal * 100) / 100

        def is_empty(self):
            return not self.items


    @functools.cache
    def evaluate(expression):
        def parse(token):
            return int(token)

        return sum(parse(t) for t in expression.split("+"))
    '''
)


def test_a_change_in_a_method_gets_the_method_with_its_class_in_the_label():
    line = line_of(CART_PY, "subtotal = sum")

    scope = enclosing("shop/cart.py", CART_PY, line, line)

    assert scope == Scope(
        line_of(CART_PY, "def total"), line_of(CART_PY, "return math.floor"), "method Cart.total"
    )


def test_a_decorated_function_starts_at_its_decorator():
    line = line_of(CART_PY, "return sum(parse")

    scope = enclosing("shop/cart.py", CART_PY, line, line)

    assert scope.label == "function evaluate"
    assert scope.start == line_of(CART_PY, "@functools.cache")
    assert scope.end == line


def test_a_change_in_a_nested_function_gets_the_inner_function():
    line = line_of(CART_PY, "return int(token)")

    scope = enclosing("shop/cart.py", CART_PY, line, line)

    assert (scope.start, scope.end) == (line_of(CART_PY, "def parse"), line)
    assert scope.label == "function evaluate.parse"


def test_a_change_across_two_methods_gets_the_class():
    scope = enclosing(
        "shop/cart.py",
        CART_PY,
        line_of(CART_PY, "return math.floor"),
        line_of(CART_PY, "def is_empty"),
    )

    assert scope.label == "class Cart"
    assert (scope.start, scope.end) == (
        line_of(CART_PY, "class Cart"),
        line_of(CART_PY, "not self"),
    )


def test_a_change_across_two_top_level_functions_gets_a_window():
    text = code(
        """
        def first():
            return 1


        def second():
            return 2
        """
    )

    scope = enclosing("a.py", text, 2, 6, window=1)

    assert scope == Scope(1, 7, "lines 1-7")


CART_JS = code(
    """
    import { round } from "./money.js";

    export class Cart {
      constructor(items) {
        this.items = items;
      }

      total() {
        const sum = this.items.reduce((acc, item) => acc + item.price, 0);
        return round(sum);
      }
    }

    export const discount = (cart, percent) => {
      const total = cart.total();
      return total - (total * percent) / 100;
    };
    """
)


def test_a_javascript_class_method():
    line = line_of(CART_JS, "const sum")

    scope = enclosing("web/cart.js", CART_JS, line, line)

    assert scope == Scope(
        line_of(CART_JS, "total() {"), line_of(CART_JS, "return round") + 1, "method Cart.total"
    )


def test_an_arrow_function_assigned_to_a_const_is_a_function():
    line = line_of(CART_JS, "return total -")

    scope = enclosing("web/cart.mjs", CART_JS, line, line)

    assert scope == Scope(line_of(CART_JS, "export const discount"), line + 1, "function discount")


def test_typescript_methods_include_their_decorators():
    text = code(
        """
        @Component({ selector: "app-cart" })
        export class CartComponent implements OnInit {
          @Input() cart: Cart;

          @HostListener("window:resize")
          onResize(): void {
            this.layout = this.cart.items.length > 3 ? "grid" : "list";
          }

          private readonly format = (value: number): string => {
            return value.toFixed(2);
          };
        }
        """
    )

    resize = enclosing("app/cart.component.ts", text, 7, 7)
    arrow = enclosing("app/cart.component.ts", text, 11, 11)

    assert resize == Scope(5, 8, "method CartComponent.onResize")
    assert arrow == Scope(10, 12, "method CartComponent.format")
    assert enclosing("app/cart.component.ts", text, 1, 1) == Scope(1, 13, "class CartComponent")


def test_a_tsx_component():
    text = code(
        """
        export function CartBadge({ count }: { count: number }) {
          if (count === 0) {
            return null;
          }
          return <span className="badge">{count}</span>;
        }
        """
    )

    scope = enclosing("web/CartBadge.tsx", text, 5, 5)

    assert scope == Scope(1, 6, "function CartBadge")


CART_GO = code(
    """
    package cart

    type Cart struct {
    \tItems []Item
    }

    func (c *Cart) Total() int {
    \ttotal := 0
    \tfor _, item := range c.Items {
    \t\ttotal += item.Price
    \t}
    \treturn total
    }

    func New(items ...Item) *Cart {
    \treturn &Cart{Items: items}
    }
    """
)


def test_a_go_method_is_named_after_its_receiver():
    line = line_of(CART_GO, "total += item.Price")

    scope = enclosing("cart/cart.go", CART_GO, line, line)

    assert scope == Scope(line_of(CART_GO, "func (c *Cart)"), line + 3, "method Cart.Total")


def test_a_go_function_and_a_go_struct():
    line = line_of(CART_GO, "return &Cart")

    assert enclosing("cart/cart.go", CART_GO, line, line) == Scope(
        line - 1, line + 1, "function New"
    )
    assert enclosing("cart/cart.go", CART_GO, 4, 4) == Scope(3, 5, "struct Cart")


@pytest.mark.parametrize(
    ("path", "source", "line", "expected"),
    [
        (
            "src/main/java/shop/Cart.java",
            """
            package shop;

            public class Cart {
                private final List<Item> items;

                public Cart(List<Item> items) {
                    this.items = items;
                }

                @Override
                public String toString() {
                    return "Cart(" + items.size() + ")";
                }
            }
            """,
            'return "Cart("',
            Scope(10, 13, "method Cart.toString"),
        ),
        (
            "src/main/java/shop/Cart.java",
            """
            public class Cart {
                public Cart(List<Item> items) {
                    this.items = items;
                }
            }
            """,
            "this.items = items",
            Scope(2, 4, "constructor Cart.Cart"),
        ),
        (
            "src/cart.rs",
            """
            pub struct Cart {
                items: Vec<Item>,
            }

            impl Cart {
                #[must_use]
                pub fn total(&self) -> u64 {
                    self.items.iter().map(|item| item.price).sum()
                }
            }
            """,
            ".sum()",
            Scope(6, 9, "method Cart::total"),
        ),
        (
            "lib/shop/cart.rb",
            """
            module Shop
              class Cart
                def total
                  items.sum(&:price)
                end
              end
            end
            """,
            "items.sum",
            Scope(3, 5, "method Shop.Cart.total"),
        ),
        (
            "src/cart.c",
            """
            #include "cart.h"

            static long *cart_total(const struct cart *cart) {
                long total = 0;
                for (size_t i = 0; i < cart->count; i++) total += cart->items[i].price;
                return total;
            }
            """,
            "total += cart",
            Scope(3, 7, "function cart_total"),
        ),
        (
            "src/cart.cpp",
            """
            namespace shop {
            long Cart::total() const {
                return std::accumulate(items_.begin(), items_.end(), 0L);
            }
            }  // namespace shop
            """,
            "std::accumulate",
            Scope(2, 4, "function shop::Cart::total"),
        ),
    ],
    ids=["java-method", "java-constructor", "rust", "ruby", "c", "cpp"],
)
def test_other_languages(path: str, source: str, line: str, expected: Scope):
    text = code(source)
    number = line_of(text, line)

    assert enclosing(path, text, number, number) == expected


def test_an_unknown_extension_gets_a_window_clipped_to_the_file():
    text = "\n".join(f"line {n}" for n in range(1, 41))

    assert enclosing("notes.txt", text, 20, 22) == Scope(10, 32, "lines 10-32")
    assert enclosing("notes.txt", text, 3, 3, window=5) == Scope(1, 8, "lines 1-8")
    assert enclosing("Makefile", text, 39, 40) == Scope(29, 40, "lines 29-40")


def test_empty_text_and_ranges_outside_the_file():
    assert enclosing("a.py", "", 1, 1) == Scope(1, 1, "lines 1-1")
    assert enclosing("a.py", "x = 1\ny = 2\n", 50, 0, window=0) == Scope(1, 3, "lines 1-3")
    line = line_of(CART_PY, "return not self.items")
    assert enclosing("a.py", CART_PY, line, line + 1000).label == "lines {}-{}".format(
        line - 10, CART_PY.count("\n") + 1
    )


def test_broken_syntax_still_finds_the_function():
    text = code(
        """
        class Cart:
            def total(self):
                return sum(
                    item.price for item in self.items

            def is_empty(self):
                return not self.items
        """
    )

    scope = enclosing("cart.py", text, 4, 4)

    assert scope.label == "method Cart.total"
    assert scope.start == 2 and scope.end >= 4


def test_lines_count_newlines_only_even_with_non_ascii_text_and_crlf():
    text = code(
        '''
        # Grüße — 日本語 🛒
        PRICES = {"äpfel": 3}\r
        \r
        def price(name):\r
            """Größe 🧺."""\r
            return PRICES[name]\r
        '''
    )

    line = line_of(text, "return PRICES")

    assert enclosing("prices.py", text, line, line) == Scope(4, 6, "function price")


def long_function(body_lines: int) -> str:
    body = "".join(f"    total += {n}\n" for n in range(body_lines))
    return f"def long():\n    total = 0\n{body}    return total\n"


def test_a_long_function_is_clipped_around_the_change():
    text = long_function(400)  # the function is lines 1-403

    scope = enclosing("long.py", text, 200, 201)

    assert scope.clipped
    assert scope.end - scope.start + 1 == 150
    assert scope.start <= 200 and scope.end >= 201
    assert abs((200 - scope.start) - (scope.end - 201)) <= 1  # centred on the change
    assert scope.label == f"part of function long (lines {scope.start}-{scope.end} of 1-403)"


def test_clipping_stays_inside_the_scope_and_keeps_a_range_longer_than_max_lines():
    text = long_function(400)

    near_top = enclosing("long.py", text, 3, 3, max_lines=20)
    huge = enclosing("long.py", text, 10, 300, max_lines=20)

    assert (near_top.start, near_top.end, near_top.clipped) == (1, 20, True)
    assert (huge.start, huge.end, huge.clipped) == (10, 300, True)
    assert huge.label == "part of function long (lines 10-300 of 1-403)"
    assert not enclosing("long.py", text, 3, 3, max_lines=500).clipped


def test_language_of():
    assert language_of("bot/review/scopes.py") == "python"
    assert language_of("typings/x.pyi") == "python"
    assert language_of("web/App.jsx") == "javascript"
    assert language_of("web/App.tsx") == "tsx"
    assert language_of("web/api.ts") == "typescript"
    assert language_of("include/cart.hpp") == "cpp"
    assert language_of("include/cart.h") == "c"
    assert language_of("README.md") is None
    assert language_of("Dockerfile") is None


def test_the_method_of_a_line_deep_in_a_5000_line_file():
    text = "".join(f"class C{n}:\n    def m(self):\n        return {n}\n\n" for n in range(1250))

    assert enclosing("big.py", text, 2499, 2499).label == "method C624.m"


FRAGMENTS = [
    "def f(x):",
    "    return x",
    "class A:",
    "  def m(self): pass",
    "@dec",
    "function g() {",
    "}",
    "const h = () => {",
    "};",
    "func (c *C) M() {",
    "fn r() {",
    "impl X {",
    "end",
    "",
    "    ",
    "\r",
    "é🛒",
    "\x00",
    "\ud800",
]
PATHS = ["a.py", "b.js", "c.ts", "d.tsx", "e.go", "F.java", "g.rs", "h.rb", "i.c", "j.cc", "k.txt"]


@settings(deadline=None)  # the first example of each language builds its parser
@given(
    path=st.sampled_from(PATHS),
    text=st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("\n".join), st.text()),
    start=st.integers(-5, 40),
    end=st.integers(-5, 40),
    max_lines=st.integers(0, 30),
    window=st.integers(-2, 12),
)
def test_any_text_and_range_gives_lines_of_the_file_around_the_range(
    path: str, text: str, start: int, end: int, max_lines: int, window: int
):
    line_count = len(text.split("\n"))
    low, high = sorted(min(max(n, 1), line_count) for n in (start, end))

    scope = enclosing(path, text, start, end, max_lines=max_lines, window=window)

    assert 1 <= scope.start <= low <= high <= scope.end <= line_count
    assert scope.end - scope.start + 1 <= max(max_lines, 1, high - low + 1)
    assert scope.label
