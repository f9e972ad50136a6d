"""Seed step "catalog": the category tree, invented brands, and products with variants,
stock and generated images for the approved sellers, in their approved categories.

Rows go in with bulk inserts (100,000 products at the large scale). Titles and
descriptions come from per-category templates; prices, weights, sizes and HS codes
from per-category ranges. The same seed gives the same catalog (ids aside).
"""

from __future__ import annotations

import io
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from reelshop.catalog.models import Brand, Category, Product, ProductImage, Sku
from reelshop.catalog.service import slugify
from reelshop.db import utcnow
from reelshop.ids import looks_like
from reelshop.inventory.models import StockAdjustment, StockLevel, StockLocation
from reelshop.sellers.models import SellerProfile, SellerStatus
from reelshop.storage import get_storage, new_key

if TYPE_CHECKING:
    from reelshop.seed import SeedContext

PRODUCTS_PER_SCALE = {"small": 3_000, "large": 100_000}
IMAGE_POOL_ABOVE = 10_000  # past this many products, products share a pool of images
IMAGE_POOL_SIZE = 800
IMAGE_SIDE = 480
THUMB_SIDE = 240
BATCH = 5_000

# (slug, name, children[(slug, name)]). Top-level slugs are the ones sellers get approved for.
TREE: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "beauty",
        "Beauty & Personal Care",
        [
            ("skincare", "Skincare"),
            ("makeup", "Makeup"),
            ("hair-care", "Hair Care"),
            ("fragrance", "Fragrance"),
        ],
    ),
    (
        "fashion",
        "Fashion",
        [
            ("women", "Women's Clothing"),
            ("men", "Men's Clothing"),
            ("shoes", "Shoes"),
            ("bags", "Bags & Luggage"),
        ],
    ),
    (
        "electronics",
        "Electronics",
        [
            ("audio", "Audio"),
            ("smart-home", "Smart Home"),
            ("wearables", "Wearables"),
            ("computer-accessories", "Computer Accessories"),
        ],
    ),
    (
        "phone-accessories",
        "Phones & Accessories",
        [
            ("phone-cases", "Cases & Covers"),
            ("chargers-cables", "Chargers & Cables"),
            ("phone-mounts", "Mounts & Stands"),
        ],
    ),
    (
        "home",
        "Home & Living",
        [
            ("home-decor", "Home Decor"),
            ("bedding", "Bedding"),
            ("storage-organization", "Storage & Organization"),
            ("lighting", "Lighting"),
        ],
    ),
    (
        "kitchen",
        "Kitchen & Dining",
        [
            ("cookware", "Cookware"),
            ("kitchen-gadgets", "Kitchen Gadgets"),
            ("drinkware", "Drinkware"),
        ],
    ),
    (
        "sports",
        "Sports & Outdoors",
        [
            ("fitness", "Fitness"),
            ("outdoor-recreation", "Camping & Hiking"),
            ("cycling", "Cycling"),
        ],
    ),
    (
        "toys",
        "Toys & Games",
        [
            ("building-toys", "Building Toys"),
            ("plush", "Plush Toys"),
            ("rc-toys", "Remote Control Toys"),
            ("puzzles-games", "Puzzles & Games"),
        ],
    ),
    (
        "pets",
        "Pet Supplies",
        [("dog-supplies", "Dog Supplies"), ("cat-supplies", "Cat Supplies")],
    ),
    (
        "jewelry",
        "Jewelry & Watches",
        [
            ("necklaces", "Necklaces"),
            ("earrings", "Earrings"),
            ("rings", "Rings"),
            ("watches", "Watches"),
        ],
    ),
]

BRANDS: dict[str, list[str]] = {
    "beauty": ["Petalry", "Dewlane", "Auralis Skin", "Mossbloom", "Velvra", "Kindra Botanics"],
    "fashion": ["Brindle & Co.", "Northmere", "Halcyra", "Tidewell", "Lark Street", "Orvane"],
    "electronics": ["Soundvale", "Orbitek", "Aerolux", "Voltrix", "Kestrelwave", "Nuvana"],
    "phone-accessories": ["Gripwell", "Chargely", "Shieldora", "Volten", "Mountaro"],
    "home": ["Maple Lane", "Hearthly", "Lumora", "Nestwell", "Oakhaven Home"],
    "kitchen": ["Cuprio", "Saltstone", "Brewmere", "Kettleby", "Ferrous Kitchen"],
    "sports": ["Trailpeak", "Vantor Sport", "Summitra", "Cadenza Cycling", "Forgefit"],
    "toys": ["Brickory", "Snugglet", "Zoomly", "Puzzlewick", "Tinker Tots"],
    "pets": ["Pawsmith", "Whiskerly", "Barkwell", "Tailtide"],
    "jewelry": ["Aurelle", "Quillon", "Sterlyn", "Opaline", "Marrowgold"],
}


@dataclass(frozen=True)
class Template:
    """How products of one leaf category look: nouns, selling points, price and size ranges."""

    nouns: Sequence[str]
    features: Sequence[str]
    uses: Sequence[str]
    price: tuple[int, int]  # whole dollars
    weight: tuple[int, int]  # grams
    size_mm: tuple[int, int]  # longest side
    hs_code: str
    options: dict[str, Sequence[str]] = field(default_factory=dict)
    tags: Sequence[str] = ()


COLORS = ["Black", "White", "Navy", "Sage Green", "Dusty Pink", "Beige", "Grey", "Burgundy"]
APPAREL_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
SHOE_SIZES = ["US 6", "US 7", "US 8", "US 9", "US 10", "US 11"]

TEMPLATES: dict[str, Template] = {
    "skincare": Template(
        [
            "Hyaluronic Acid Serum",
            "Vitamin C Face Cream",
            "Gentle Foaming Cleanser",
            "Retinol Night Cream",
            "Niacinamide Toner",
            "SPF 50 Sunscreen Lotion",
        ],
        [
            "for Dry Skin",
            "Fragrance-Free",
            "Dermatologist Tested",
            "Vegan & Cruelty-Free",
            "Brightening",
            "Lightweight Non-Greasy",
            "30 ml",
            "50 ml",
        ],
        ["daily morning routines", "sensitive skin", "dull, tired-looking skin"],
        (8, 45),
        (60, 250),
        (60, 160),
        "330499",
        {"Size": ["30 ml", "50 ml", "100 ml"]},
        ["skincare", "serum", "glow"],
    ),
    "makeup": Template(
        [
            "Matte Liquid Lipstick",
            "Long-Wear Foundation",
            "Volumizing Mascara",
            "Eyeshadow Palette",
            "Setting Powder",
            "Brow Pencil",
        ],
        [
            "24h Wear",
            "Smudge-Proof",
            "Waterproof",
            "12 Shades",
            "Buildable Coverage",
            "Transfer-Resistant",
        ],
        ["everyday looks", "long nights out", "quick touch-ups"],
        (6, 38),
        (20, 180),
        (40, 180),
        "330420",
        {"Shade": ["Nude", "Rose", "Berry", "Coral", "Mocha", "Ruby"]},
        ["makeup", "beauty"],
    ),
    "hair-care": Template(
        [
            "Argan Oil Hair Mask",
            "Ionic Hair Dryer",
            "Ceramic Hair Straightener",
            "Curling Wand",
            "Scalp Massager Brush",
            "Heat Protectant Spray",
        ],
        [
            "Frizz Control",
            "Fast Drying",
            "Salon Quality",
            "for All Hair Types",
            "Dual Voltage",
            "Sulfate-Free",
        ],
        ["frizzy or damaged hair", "salon results at home", "travel"],
        (9, 89),
        (80, 900),
        (80, 320),
        "851631",
        {"Color": ["Black", "Rose Gold", "White"]},
        ["haircare"],
    ),
    "fragrance": Template(
        ["Eau de Parfum", "Body Mist", "Solid Perfume Balm", "Rollerball Perfume Oil"],
        [
            "Vanilla & Amber",
            "Citrus & Neroli",
            "Fresh Floral",
            "Long-Lasting",
            "Travel Size",
            "50 ml",
        ],
        ["everyday wear", "evenings", "gifting"],
        (12, 78),
        (60, 350),
        (60, 140),
        "330300",
        {"Size": ["10 ml", "50 ml", "100 ml"]},
        ["fragrance", "gift"],
    ),
    "women": Template(
        [
            "Ribbed Knit Midi Dress",
            "High-Waist Yoga Leggings",
            "Oversized Cotton T-Shirt",
            "Linen Wide-Leg Pants",
            "Cropped Denim Jacket",
            "Floral Wrap Blouse",
        ],
        ["Breathable", "Stretchy", "Relaxed Fit", "Machine Washable", "with Pockets", "Soft Touch"],
        ["work and weekends", "warm summer days", "layering in autumn"],
        (14, 69),
        (150, 700),
        (250, 400),
        "620443",
        {"Size": APPAREL_SIZES, "Color": COLORS[:5]},
        ["womens", "outfit"],
    ),
    "men": Template(
        [
            "Slim Fit Chino Pants",
            "Quarter-Zip Fleece Pullover",
            "Heavyweight Cotton Hoodie",
            "Quick-Dry Running Shorts",
            "Oxford Button-Down Shirt",
            "Merino Crew Socks 3-Pack",
        ],
        [
            "Wrinkle-Resistant",
            "Moisture-Wicking",
            "Classic Fit",
            "Pre-Shrunk",
            "with Zip Pocket",
            "All-Season",
        ],
        ["the office", "the gym", "weekend trips"],
        (12, 79),
        (120, 900),
        (250, 400),
        "620342",
        {"Size": APPAREL_SIZES[1:], "Color": ["Black", "Navy", "Khaki", "Olive", "Grey"]},
        ["mens"],
    ),
    "shoes": Template(
        [
            "Lightweight Running Shoes",
            "Canvas Low-Top Sneakers",
            "Waterproof Hiking Boots",
            "Memory Foam Slippers",
            "Leather Chelsea Boots",
            "Slip-On Walking Shoes",
        ],
        ["Breathable Mesh", "Non-Slip Sole", "Arch Support", "Cushioned Insole", "Wide Toe Box"],
        ["all-day walking", "trail runs", "errands and travel"],
        (19, 119),
        (400, 1400),
        (280, 340),
        "640411",
        {"Size": SHOE_SIZES, "Color": ["Black", "White", "Grey", "Navy"]},
        ["shoes"],
    ),
    "bags": Template(
        [
            "Anti-Theft Travel Backpack",
            "Vegan Leather Tote Bag",
            "Crossbody Sling Bag",
            "Carry-On Spinner Suitcase",
            "Packable Duffel Bag",
        ],
        [
            "with USB Charging Port",
            "Water-Resistant",
            'Fits 15.6" Laptop',
            "Lightweight",
            "RFID Blocking Pocket",
        ],
        ["commuting", "weekend getaways", "air travel"],
        (18, 149),
        (300, 3800),
        (300, 560),
        "420292",
        {"Color": COLORS[:6]},
        ["bags", "travel"],
    ),
    "audio": Template(
        [
            "Wireless Earbuds",
            "Over-Ear Headphones",
            "Portable Bluetooth Speaker",
            "Open-Ear Sports Headphones",
            "Soundbar for TV",
        ],
        [
            "with Charging Case",
            "40h Playtime",
            "Bluetooth 5.3",
            "Active Noise Cancelling",
            "IPX7 Waterproof",
            "Deep Bass",
            "Built-in Mic",
            "Low-Latency Gaming Mode",
        ],
        ["commutes", "workouts", "movie nights"],
        (15, 129),
        (40, 1800),
        (60, 900),
        "851830",
        {"Color": ["Black", "White", "Navy", "Sage Green"]},
        ["audio", "bluetooth"],
    ),
    "smart-home": Template(
        [
            "Smart Wi-Fi Plug",
            "LED Smart Bulb",
            "Video Doorbell Camera",
            "Indoor Security Camera",
            "Smart Thermostat",
            "Robot Vacuum Cleaner",
        ],
        [
            "Works with Alexa & Google Home",
            "2K Resolution",
            "Night Vision",
            "App Control",
            "No Hub Required",
            "Energy Monitoring",
        ],
        ["apartments", "busy households", "keeping an eye on pets"],
        (9, 199),
        (80, 3500),
        (60, 350),
        "853110",
        {"Pack": ["1-Pack", "2-Pack", "4-Pack"]},
        ["smarthome"],
    ),
    "wearables": Template(
        ["Fitness Tracker Watch", "Smart Watch", "Sleep Tracking Ring", "Kids GPS Watch"],
        [
            "Heart Rate Monitor",
            "SpO2",
            "14-Day Battery",
            "5ATM Waterproof",
            "AMOLED Display",
            "100+ Sport Modes",
        ],
        ["training", "sleep tracking", "staying connected"],
        (19, 149),
        (25, 120),
        (40, 260),
        "851762",
        {"Color": ["Black", "Silver", "Rose Gold", "Midnight Blue"]},
        ["wearable", "fitness"],
    ),
    "computer-accessories": Template(
        [
            "Mechanical Gaming Keyboard",
            "Wireless Ergonomic Mouse",
            "USB-C Hub 7-in-1",
            "Laptop Stand",
            "1080p Webcam",
            "Portable SSD 1TB",
        ],
        [
            "RGB Backlit",
            "Silent Clicks",
            "4K HDMI",
            "Adjustable Height",
            "Plug and Play",
            "Aluminum",
        ],
        ["home offices", "gaming setups", "working on the go"],
        (12, 119),
        (90, 1400),
        (100, 480),
        "847160",
        {"Color": ["Black", "White", "Space Grey"]},
        ["desk", "pc"],
    ),
    "phone-cases": Template(
        [
            "Shockproof Phone Case",
            "Clear MagSafe Case",
            "Leather Wallet Case",
            "Slim Silicone Case",
        ],
        [
            "Military-Grade Drop Protection",
            "Anti-Yellowing",
            "Card Holder",
            "Raised Camera Lip",
            "Wireless Charging Compatible",
        ],
        ["everyday protection", "keeping cards handy", "showing off your phone's colour"],
        (6, 29),
        (25, 90),
        (150, 180),
        "392690",
        {
            "Model": ["iPhone 15", "iPhone 15 Pro", "iPhone 16", "Galaxy S24", "Pixel 9"],
            "Color": ["Black", "Clear", "Navy", "Lavender"],
        },
        ["phonecase"],
    ),
    "chargers-cables": Template(
        [
            "65W GaN USB-C Charger",
            "Braided USB-C Cable",
            "3-in-1 Wireless Charging Station",
            "20000mAh Power Bank",
            "Car Charger Dual Port",
        ],
        ["Fast Charging", "6 ft", "Foldable Plug", "LED Display", "Compact"],
        ["travel", "the nightstand", "charging several devices"],
        (7, 59),
        (30, 450),
        (60, 180),
        "850440",
        {"Color": ["Black", "White"]},
        ["charger"],
    ),
    "phone-mounts": Template(
        [
            "Magnetic Car Phone Mount",
            "Adjustable Phone Stand",
            "Selfie Stick Tripod",
            "Bike Phone Holder",
        ],
        ["360° Rotation", "One-Hand Operation", "Extendable", "Bluetooth Remote"],
        ["navigation", "video calls", "filming your own videos"],
        (8, 39),
        (60, 600),
        (100, 700),
        "392690",
        {},
        ["mount", "creator"],
    ),
    "home-decor": Template(
        [
            "Boho Macrame Wall Hanging",
            "Ceramic Bud Vase Set",
            "Faux Eucalyptus Stems",
            "Round Wall Mirror",
            "Linen Throw Pillow Cover",
        ],
        ["Handmade", "Minimalist", "Neutral Tones", "Set of 3", "Easy to Hang"],
        ["living rooms", "bedrooms", "housewarming gifts"],
        (9, 79),
        (150, 4500),
        (200, 800),
        "442090",
        {"Color": ["Cream", "Terracotta", "Sage"]},
        ["decor", "home"],
    ),
    "bedding": Template(
        [
            "Cooling Bamboo Sheet Set",
            "Weighted Blanket",
            "Down-Alternative Comforter",
            "Memory Foam Pillow",
            "Waffle Knit Throw Blanket",
        ],
        ["Breathable", "Hypoallergenic", "Deep Pocket", "Machine Washable", "All-Season"],
        ["hot sleepers", "cosy nights", "guest rooms"],
        (19, 129),
        (600, 7000),
        (300, 600),
        "630231",
        {"Size": ["Twin", "Full", "Queen", "King"], "Color": ["White", "Grey", "Sage Green"]},
        ["bedding", "sleep"],
    ),
    "storage-organization": Template(
        [
            "Stackable Storage Bins",
            "Under-Bed Storage Bag",
            "Drawer Organizer Set",
            "Over-the-Door Shoe Rack",
            "Acrylic Makeup Organizer",
        ],
        ["Set of 6", "Foldable", "with Lids", "Clear", "Space-Saving"],
        ["small apartments", "closets", "kids' rooms"],
        (8, 49),
        (200, 2500),
        (250, 700),
        "392490",
        {"Color": ["White", "Grey", "Beige"]},
        ["organization"],
    ),
    "lighting": Template(
        [
            "LED Strip Lights",
            "Sunset Projection Lamp",
            "Rechargeable Table Lamp",
            "Motion Sensor Night Light",
            "Solar Garden Lights",
        ],
        ["App Controlled", "Dimmable", "Warm White", "USB Rechargeable", "Music Sync"],
        ["bedrooms", "gaming rooms", "patios"],
        (9, 69),
        (100, 1600),
        (100, 5000),
        "940540",
        {"Length": ["16 ft", "32 ft", "50 ft"]},
        ["lighting", "roomdecor"],
    ),
    "cookware": Template(
        [
            "Nonstick Frying Pan",
            "Cast Iron Skillet",
            "Stainless Steel Pot Set",
            "Enameled Dutch Oven",
            "Carbon Steel Wok",
        ],
        ["PFOA-Free", "Induction Compatible", "Oven Safe", "Stay-Cool Handle", "Pre-Seasoned"],
        ["weeknight dinners", "searing and stir-frying", "slow braises"],
        (19, 149),
        (800, 6500),
        (250, 450),
        "732393",
        {"Size": ["8 in", "10 in", "12 in"]},
        ["cookware", "kitchen"],
    ),
    "kitchen-gadgets": Template(
        [
            "Digital Kitchen Scale",
            "Electric Milk Frother",
            "Vegetable Chopper",
            "Instant-Read Meat Thermometer",
            "Silicone Utensil Set",
        ],
        ["Rechargeable", "Dishwasher Safe", "Heat Resistant", "Compact", "Easy Clean"],
        ["meal prep", "baking", "coffee at home"],
        (7, 59),
        (100, 1200),
        (120, 350),
        "821000",
        {},
        ["kitchen", "gadget"],
    ),
    "drinkware": Template(
        [
            "Insulated Water Bottle",
            "Stainless Steel Tumbler with Straw",
            "Glass Coffee Mug",
            "Leak-Proof Travel Mug",
        ],
        ["40 oz", "Keeps Cold 24h", "BPA-Free", "Dishwasher Safe", "with Handle"],
        ["the gym", "road trips", "the office"],
        (9, 45),
        (200, 700),
        (180, 300),
        "732393",
        {"Color": ["Black", "Sage Green", "Dusty Pink", "Cream", "Navy"]},
        ["tumbler"],
    ),
    "fitness": Template(
        [
            "Adjustable Dumbbell Set",
            "Resistance Bands Set",
            "Non-Slip Yoga Mat",
            "Foam Roller",
            "Jump Rope with Counter",
            "Doorway Pull-Up Bar",
        ],
        ["Home Gym", "Extra Thick", "with Carry Bag", "Anti-Slip", "Beginner Friendly"],
        ["home workouts", "yoga practice", "recovery days"],
        (9, 149),
        (200, 12000),
        (250, 1830),
        "950691",
        {"Color": ["Black", "Purple", "Teal"]},
        ["fitness", "workout"],
    ),
    "outdoor-recreation": Template(
        [
            "Ultralight Camping Tent",
            "Down Sleeping Bag",
            "Rechargeable Headlamp",
            "Collapsible Water Container",
            "Hammock with Tree Straps",
        ],
        ["2-Person", "Waterproof", "Packable", "1000 Lumen", "Quick Setup"],
        ["backpacking", "car camping", "festival weekends"],
        (12, 189),
        (150, 3500),
        (150, 600),
        "630622",
        {"Color": ["Olive", "Orange", "Navy"]},
        ["camping", "outdoors"],
    ),
    "cycling": Template(
        [
            "Bike Helmet with Light",
            "Padded Cycling Shorts",
            "Bike Repair Tool Kit",
            "Rechargeable Bike Light Set",
            "Bike Lock with Key",
        ],
        ["Lightweight", "USB Rechargeable", "Reflective", "16-in-1", "Breathable"],
        ["city commuting", "road rides", "mountain trails"],
        (9, 89),
        (100, 900),
        (100, 300),
        "871499",
        {"Size": ["S", "M", "L"]},
        ["cycling"],
    ),
    "building-toys": Template(
        [
            "Magnetic Building Tiles",
            "Brick Building Set City Garage",
            "Marble Run Set",
            "STEM Robot Building Kit",
        ],
        ["100 Pieces", "Ages 3+", "Ages 8+", "Educational", "Compatible with Major Brands"],
        ["creative play", "rainy afternoons", "birthday gifts"],
        (12, 89),
        (300, 2500),
        (200, 450),
        "950300",
        {},
        ["toys", "stem"],
    ),
    "plush": Template(
        ["Giant Teddy Bear", "Axolotl Plush Toy", "Weighted Plush Animal", "Squishy Cat Pillow"],
        ["Super Soft", "16 in", "Huggable", "Machine Washable"],
        ["bedtime", "gifts", "cuddles"],
        (9, 49),
        (150, 1500),
        (200, 900),
        "950300",
        {"Color": ["Pink", "Brown", "Lavender"]},
        ["plush", "gift"],
    ),
    "rc-toys": Template(
        ["Remote Control Car", "Mini Drone with Camera", "RC Stunt Car", "RC Boat for Pools"],
        ["4WD", "2 Rechargeable Batteries", "All Terrain", "Headless Mode", "2.4GHz"],
        ["backyard races", "kids aged 8 and up", "holidays"],
        (19, 99),
        (300, 1600),
        (200, 450),
        "950300",
        {"Color": ["Red", "Blue", "Green"]},
        ["rc", "toys"],
    ),
    "puzzles-games": Template(
        ["1000 Piece Jigsaw Puzzle", "Family Card Game", "Wooden Chess Set", "Strategy Board Game"],
        ["for Adults", "2 to 6 Players", "Family Game Night", "Travel Edition"],
        ["game nights", "quiet evenings", "family gatherings"],
        (9, 49),
        (200, 1500),
        (200, 450),
        "950490",
        {},
        ["games", "puzzle"],
    ),
    "dog-supplies": Template(
        [
            "No-Pull Dog Harness",
            "Orthopedic Dog Bed",
            "Retractable Dog Leash",
            "Interactive Chew Toy",
            "Slow Feeder Bowl",
        ],
        ["Reflective", "Washable Cover", "Durable", "for Medium Dogs", "Non-Slip"],
        ["daily walks", "senior dogs", "heavy chewers"],
        (8, 79),
        (100, 3500),
        (150, 900),
        "420100",
        {"Size": ["S", "M", "L", "XL"]},
        ["dog", "pets"],
    ),
    "cat-supplies": Template(
        [
            "Cat Tree Tower",
            "Self-Cleaning Litter Box",
            "Feather Wand Toy",
            "Cat Water Fountain",
            "Window Perch Hammock",
        ],
        ["Multi-Level", "Quiet Pump", "Sisal Scratching Posts", "Easy Assembly"],
        ["indoor cats", "multi-cat homes", "playful kittens"],
        (7, 149),
        (100, 9000),
        (150, 1200),
        "420100",
        {"Color": ["Grey", "Beige", "White"]},
        ["cat", "pets"],
    ),
    "necklaces": Template(
        [
            "Layered Gold Necklace",
            "Initial Pendant Necklace",
            "Freshwater Pearl Choker",
            "Birthstone Necklace",
        ],
        ["14K Gold Plated", "Hypoallergenic", "Dainty", "Adjustable Chain", "Gift Box"],
        ["everyday wear", "gifting", "layering"],
        (9, 69),
        (5, 60),
        (60, 120),
        "711719",
        {"Finish": ["Gold", "Silver", "Rose Gold"]},
        ["jewelry", "necklace"],
    ),
    "earrings": Template(
        ["Huggie Hoop Earrings", "Pearl Drop Earrings", "Stud Earrings Set", "Chunky Gold Hoops"],
        ["Sterling Silver Posts", "Hypoallergenic", "Lightweight", "Set of 6 Pairs"],
        ["sensitive ears", "stacking", "special occasions"],
        (7, 49),
        (3, 40),
        (40, 90),
        "711719",
        {"Finish": ["Gold", "Silver"]},
        ["earrings"],
    ),
    "rings": Template(
        ["Stackable Ring Set", "Adjustable Open Ring", "Signet Ring", "Cubic Zirconia Band"],
        ["Tarnish-Resistant", "Stainless Steel", "Minimalist", "Comfort Fit"],
        ["stacking", "promise gifts", "everyday style"],
        (7, 59),
        (3, 30),
        (20, 60),
        "711719",
        {"Size": ["5", "6", "7", "8", "9"]},
        ["rings"],
    ),
    "watches": Template(
        [
            "Minimalist Quartz Watch",
            "Chronograph Sport Watch",
            "Mesh Strap Watch",
            "Automatic Skeleton Watch",
        ],
        ["Water Resistant", "Japanese Movement", "Luminous Hands", "Sapphire-Coated Glass"],
        ["the office", "formal events", "everyday wear"],
        (19, 189),
        (40, 180),
        (50, 120),
        "910211",
        {"Color": ["Black", "Silver", "Gold", "Rose Gold"]},
        ["watch"],
    ),
}

ADJECTIVES = ["", "", "", "Premium ", "Upgraded ", "Compact ", "Classic ", "2-Pack ", "New "]

SHAPES = ["circle", "square", "triangle", "diamond", "ring", "bars"]
TOP_SHAPE = {
    "beauty": "circle",
    "fashion": "square",
    "electronics": "ring",
    "phone-accessories": "bars",
    "home": "diamond",
    "kitchen": "circle",
    "sports": "triangle",
    "toys": "square",
    "pets": "circle",
    "jewelry": "diamond",
}


# reelshop.ids' alphabet: 35 characters, so bytes below 245 (7 * 35) map without bias.
_ID_ALPHABET = b"0123456789abcdefghijkmnopqrstuvwxyz"
_ID_TABLE = bytes(_ID_ALPHABET[b % 35] if b < 245 else 0 for b in range(256))
_ID_DROP = bytes(range(245, 256))
_ID_LENGTH = 25


class _IdStream:
    """Ids in ``reelshop.ids.new_id``'s exact format and strength (25 characters from the
    OS's CSPRNG), made in bulk: one random read per ~2,500 ids instead of 25 per id,
    which is most of the time seeding 100,000 products would otherwise take."""

    def __init__(self) -> None:
        self._chars = ""
        self._at = 0

    def __call__(self, prefix: str) -> str:
        if self._at + _ID_LENGTH > len(self._chars):
            self._chars = secrets.token_bytes(1 << 16).translate(_ID_TABLE, _ID_DROP).decode()
            self._at = 0
        body = self._chars[self._at : self._at + _ID_LENGTH]
        self._at += _ID_LENGTH
        made = f"{prefix}_{body}"
        assert looks_like(prefix, made)
        return made


def _price_cents(rng: random.Random, low: int, high: int) -> int:
    dollars = rng.randint(low, high)
    cents = rng.choice([99, 99, 99, 49, 95, 0])
    return max(99, dollars * 100 + cents - (100 if cents else 0))


def _title(rng: random.Random, template: Template, brand: str | None) -> str:
    noun = rng.choice(template.nouns)
    features = rng.sample(list(template.features), k=min(len(template.features), rng.randint(2, 3)))
    first, *rest = features
    joiner = " " if first.startswith(("with ", "for ")) else ", "
    title = f"{rng.choice(ADJECTIVES)}{noun}{joiner}{first}"
    if rest:
        title += ", " + ", ".join(rest)
    if brand and rng.random() < 0.35:
        title = f"{brand} {title}"
    return title[:255]


def _description(rng: random.Random, template: Template, title: str, brand: str | None) -> str:
    use = rng.choice(template.uses)
    points = rng.sample(list(template.features), k=min(4, len(template.features)))
    made_by = f" from {brand}" if brand else ""
    lines = [
        f"{title}{made_by}, made for {use}.",
        "",
        "Why you'll love it:",
        *[f"- {p}" for p in points],
        "",
        rng.choice(
            [
                "Backed by a 30-day return window and a 12-month warranty.",
                "Ships in retail packaging, ready to gift.",
                "Questions about sizing or compatibility? Message the shop before you buy.",
                "Every batch is checked before it leaves our warehouse.",
            ]
        ),
    ]
    return "\n".join(lines)


@dataclass
class _Image:
    key: str
    thumb_key: str


def _color(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(150, 245), rng.randint(150, 245), rng.randint(150, 245))


def _accent(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(20, 140), rng.randint(20, 140), rng.randint(20, 140))


_FONT_SIZE = 24
_LINE_HEIGHT = 30
_MARGIN = 28
_WORDS: dict[str, Image.Image] = {}


def _word(word: str) -> Image.Image:
    """A word rendered once as a mask; titles reuse a small vocabulary, so pasting cached
    words is some ten times faster than laying out every title with FreeType."""
    sprite = _WORDS.get(word)
    if sprite is None:
        font = ImageFont.load_default(size=_FONT_SIZE)
        _, _, right, bottom = font.getbbox(word)
        sprite = Image.new("L", (max(1, int(right)), max(1, int(bottom))), 0)
        ImageDraw.Draw(sprite).text((0, 0), word, font=font, fill=255)
        _WORDS[word] = sprite
    return sprite


def _draw_caption(image: Image.Image, text: str, top: int) -> None:
    space = _FONT_SIZE // 4
    x, y, lines = _MARGIN, top, 1
    for word in text.split():
        sprite = _word(word)
        if x + sprite.width > image.width - _MARGIN and x > _MARGIN:
            lines += 1
            if lines > 4:
                return
            x, y = _MARGIN, y + _LINE_HEIGHT
        image.paste((25, 25, 35), (x, y, x + sprite.width, y + sprite.height), sprite)
        x += sprite.width + space


def render_image(
    text: str, shape: str, background: tuple[int, int, int], accent: tuple[int, int, int]
) -> tuple[bytes, bytes]:
    """A square product picture (JPEG) and its thumbnail: a coloured card, a simple shape
    and the product's name."""
    side = IMAGE_SIDE
    image = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(image)
    c, r = side // 2, side // 5
    top = side // 2 - 40
    box = (c - r, top - r, c + r, top + r)
    if shape == "circle":
        draw.ellipse(box, fill=accent)
    elif shape == "square":
        draw.rounded_rectangle(box, radius=r // 4, fill=accent)
    elif shape == "triangle":
        draw.polygon([(c, top - r), (c + r, top + r), (c - r, top + r)], fill=accent)
    elif shape == "diamond":
        draw.polygon([(c, top - r), (c + r, top), (c, top + r), (c - r, top)], fill=accent)
    elif shape == "ring":
        draw.ellipse(box, outline=accent, width=r // 3)
    else:
        for i in range(4):
            x = c - r + i * (r // 2) + 4
            draw.rectangle((x, top + r - (i + 1) * r // 2, x + r // 3, top + r), fill=accent)
    _draw_caption(image, text, side - 150)
    main = io.BytesIO()
    image.save(main, format="JPEG", quality=80)
    thumb = io.BytesIO()
    image.reduce(side // THUMB_SIDE).save(thumb, format="JPEG", quality=75)
    return main.getvalue(), thumb.getvalue()


ImageJob = tuple[str, str, tuple[int, int, int], tuple[int, int, int]]


def _store_images(jobs: list[ImageJob]) -> list[_Image]:
    """Render and store, one after the other: with writer threads the renderer kept
    waiting for the GIL, which made the step slower, not faster."""
    storage = get_storage()
    stored: list[_Image] = []
    for job in jobs:
        main, thumb = render_image(*job)
        key = new_key("images", ".jpg")
        thumb_key = key.removesuffix(".jpg") + "-thumb.jpg"
        storage.put(key, main, content_type="image/jpeg")
        storage.put(thumb_key, thumb, content_type="image/jpeg")
        stored.append(_Image(key, thumb_key))
    return stored


def seed_categories(session: Session) -> dict[str, Category]:
    """The category tree (idempotent: existing slugs are kept)."""
    existing = {c.slug: c for c in session.scalars(select(Category)).all()}
    for top_position, (slug, name, children) in enumerate(TREE):
        top = existing.get(slug)
        if top is None:
            top = Category(slug=slug, name=name, path=slug, position=top_position)
            session.add(top)
            session.flush()
            existing[slug] = top
        for position, (child_slug, child_name) in enumerate(children):
            if child_slug not in existing:
                child = Category(
                    slug=child_slug,
                    name=child_name,
                    parent_id=top.id,
                    path=f"{slug}/{child_slug}",
                    position=position,
                )
                session.add(child)
                session.flush()
                existing[child_slug] = child
    return existing


def seed_brands(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Invented brands per top-level category: {top slug: [(brand id, name)]}."""
    existing = {b.slug: b for b in session.scalars(select(Brand)).all()}
    out: dict[str, list[tuple[str, str]]] = {}
    for top, names in BRANDS.items():
        for name in names:
            slug = slugify(name)
            brand = existing.get(slug)
            if brand is None:
                brand = Brand(name=name, slug=slug)
                session.add(brand)
                existing[slug] = brand
            out.setdefault(top, []).append((brand.id, name))
    session.flush()
    return {top: [(existing[slugify(n)].id, n) for _, n in items] for top, items in out.items()}


def _variants(rng: random.Random, template: Template) -> tuple[list[str], list[dict[str, str]]]:
    names = list(template.options)
    if not names:
        return [], [{}]
    if len(names) > 1 and rng.random() < 0.3:
        names = names[:1]
    choices = []
    for name in names:
        values = list(template.options[name])
        k = rng.randint(min(2, len(values)), min(len(values), 4 if len(names) > 1 else 5))
        start = rng.randint(0, len(values) - k)
        choices.append(values[start : start + k] if name in ("Size",) else rng.sample(values, k))
    combos: list[dict[str, str]] = [{}]
    for name, values in zip(names, choices, strict=True):
        combos = [{**c, name: v} for c in combos for v in values]
    return names, combos[:12]


def seed_catalog(session: Session, ctx: SeedContext) -> None:
    rng = random.Random(ctx.rng.getrandbits(64))
    new_id = _IdStream()
    categories = seed_categories(session)
    brands = seed_brands(session)
    leaves_by_top: dict[str, list[Category]] = {}
    for category in categories.values():
        if category.parent_id is not None and category.slug in TEMPLATES:
            leaves_by_top.setdefault(category.path.split("/")[0], []).append(category)
    for leaves in leaves_by_top.values():
        leaves.sort(key=lambda c: c.path)

    seller_rows = session.scalars(
        select(SellerProfile)
        .where(SellerProfile.status == SellerStatus.APPROVED)
        .order_by(SellerProfile.created_at, SellerProfile.display_name)
    ).all()
    sellers = [s for s in seller_rows if any(t in leaves_by_top for t in s.categories)]
    # The sellers step's order (deterministic; ids are random), the demo seller first.
    seeded_order = {seller_id: i for i, seller_id in enumerate(ctx.seller_ids)}
    sellers.sort(key=lambda s: (seeded_order.get(s.id, len(seeded_order)), s.display_name))
    if not sellers:
        return
    total = PRODUCTS_PER_SCALE.get(ctx.scale.name, max(20, ctx.scale.sellers * 10))
    # A long tail: a few big shops, many small ones.
    weights = [1.0 / (1 + i) ** 0.6 for i in range(len(sellers))]
    counts = [max(1, int(total * w / sum(weights))) for w in weights]
    counts[0] += total - sum(counts)

    now = utcnow()
    pooled = total > IMAGE_POOL_ABOVE
    pool: list[_Image] = []
    if pooled:
        pool = _store_images(
            [
                (rng.choice([*BRANDS[t], ""]), TOP_SHAPE[t], _color(rng), _accent(rng))
                for t in [rng.choice(list(TOP_SHAPE)) for _ in range(IMAGE_POOL_SIZE)]
            ]
        )

    products: list[dict[str, Any]] = []
    skus: list[dict[str, Any]] = []
    levels: list[dict[str, Any]] = []
    adjustments: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    image_jobs: list[ImageJob] = []
    locations: list[dict[str, Any]] = []
    product_ids: list[str] = []

    def flush_rows() -> None:
        if image_jobs:
            made = _store_images(image_jobs)
            for row, stored in zip(images[-len(made) :], made, strict=True):
                row["storage_key"], row["thumb_key"] = stored.key, stored.thumb_key
            image_jobs.clear()
        for model, rows in (
            (StockLocation, locations),
            (Product, products),
            (Sku, skus),
            (StockLevel, levels),
            (StockAdjustment, adjustments),
            (ProductImage, images),
        ):
            if rows:
                table = model.__table__
                assert isinstance(table, Table)
                session.execute(insert(table), rows)  # Core: one executemany per batch
                rows.clear()

    for seller, count in zip(sellers, counts, strict=True):
        location_id = new_id("loc")
        locations.append(
            {
                "id": location_id,
                "seller_id": seller.id,
                "name": "Main warehouse",
                "kind": "seller_warehouse",
                "country": seller.ships_from_country,
                "created_at": now - timedelta(days=400),
            }
        )
        tops = [t for t in seller.categories if t in leaves_by_top]
        handles: set[str] = set()
        for _ in range(count):
            top = rng.choice(tops)
            leaf = rng.choice(leaves_by_top[top])
            template = TEMPLATES[leaf.slug]
            brand = rng.choice(brands[top]) if rng.random() < 0.8 else None
            title = _title(rng, template, brand[1] if brand else None)
            handle = slugify(title)
            n = 2
            while handle in handles:
                handle = f"{slugify(title)}-{n}"
                n += 1
            handles.add(handle)
            if seller.country in ("CN", "HK"):
                origin = "CN"
            else:
                origin = rng.choice(["CN", "CN", seller.country, seller.ships_from_country])
            created = now - timedelta(days=rng.uniform(1, 365), seconds=rng.randint(0, 86_400))
            roll = rng.random()
            status = "active" if roll < 0.86 else ("draft" if roll < 0.95 else "archived")
            product_id = new_id("prd")
            product_ids.append(product_id)
            longest = rng.randint(*template.size_mm)
            option_names, combos = _variants(rng, template)
            products.append(
                {
                    "id": product_id,
                    "seller_id": seller.id,
                    "handle": handle,
                    "title": title,
                    "description": _description(rng, template, title, brand[1] if brand else None),
                    "category_id": leaf.id,
                    "brand_id": brand[0] if brand else None,
                    "brand_text": brand[1] if brand else None,
                    "product_type": template.nouns[0].split()[-1],
                    "tags": [*template.tags, leaf.slug],
                    "option_names": option_names,
                    "status": status,
                    "currency": seller.currency,
                    "hs_code": template.hs_code,
                    "origin_country": origin,
                    "length_mm": longest,
                    "width_mm": max(10, int(longest * rng.uniform(0.4, 0.9))),
                    "height_mm": max(5, int(longest * rng.uniform(0.1, 0.5))),
                    "created_at": created,
                    "updated_at": created + timedelta(days=rng.uniform(0, 20)),
                    "published_at": created if status != "draft" else None,
                }
            )
            base = _price_cents(rng, *template.price)
            on_sale = rng.random() < 0.3
            weight = rng.randint(*template.weight)
            code_stem = f"{leaf.slug[:3].upper()}{rng.randint(10_000, 99_999)}"
            for position, values in enumerate(combos):
                sku_id = new_id("sku")
                bump = 200 if values.get("Size") in ("XL", "XXL", "King", "100 ml", "12 in") else 0
                price = base + bump
                suffix = "-".join(slugify(v).upper() for v in values.values())
                skus.append(
                    {
                        "id": sku_id,
                        "product_id": product_id,
                        "code": f"{code_stem}-{suffix}" if suffix else code_stem,
                        "option_values": values,
                        "price_amount": price,
                        "compare_at_amount": (
                            int(price * rng.uniform(1.2, 1.6)) // 100 * 100 + 99
                            if on_sale
                            else None
                        ),
                        "weight_grams": weight,
                        "barcode": f"{rng.randint(10**11, 10**12 - 1)}",
                        "position": position,
                        "is_active": True,
                        "created_at": created,
                    }
                )
                stock = 0 if rng.random() < 0.05 else rng.randint(5, 500)
                levels.append(
                    {"sku_id": sku_id, "location_id": location_id, "on_hand": stock, "reserved": 0}
                )
                if stock:
                    adjustments.append(
                        {
                            "id": new_id("adj"),
                            "sku_id": sku_id,
                            "location_id": location_id,
                            "delta": stock,
                            "reason": "received",
                            "note": "opening stock",
                            "actor_id": None,
                            "created_at": created,
                        }
                    )
            image_row: dict[str, Any] = {
                "id": new_id("img"),
                "product_id": product_id,
                "position": 0,
                "width": IMAGE_SIDE,
                "height": IMAGE_SIDE,
                "content_type": "image/jpeg",
                "alt": title,
                "source_url": None,
                "created_at": created,
            }
            if pooled:
                shared = pool[rng.randrange(len(pool))]
                image_row["storage_key"], image_row["thumb_key"] = shared.key, shared.thumb_key
            else:
                image_jobs.append((title, TOP_SHAPE.get(top, "circle"), _color(rng), _accent(rng)))
            images.append(image_row)
            if len(products) >= BATCH:
                flush_rows()
    flush_rows()
    ctx.extra["product_ids"] = product_ids
